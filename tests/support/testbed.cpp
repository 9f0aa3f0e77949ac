// SPDX-License-Identifier: Apache-2.0
#include "support/testbed.hpp"

#include <unistd.h>

namespace wgcap::test {

Testbed::Testbed(const std::string& tag) {
  const std::string id = tag + std::to_string(getpid() % 100000);
  ns_a = "wgt-" + id + "-a";
  ns_b = "wgt-" + id + "-b";
  if_a = "wgt" + id + "a";
  if_b = "wgt" + id + "b";
  const ProcessResult r = Script("up");
  up_ = r.exit_code == 0;
  up_output_ = r.out + r.err;
}

Testbed::~Testbed() {
  Script("down");
}

ProcessResult Testbed::Script(const std::string& verb) const {
  return Run({"env", "WGCAP_NS_A=" + ns_a, "WGCAP_NS_B=" + ns_b, "WGCAP_IF_A=" + if_a,
              "WGCAP_IF_B=" + if_b, std::string(WGCAP_SOURCE_DIR) + "/scripts/testbed.sh", verb});
}

std::vector<std::string> Testbed::InA(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns_a});
  return argv;
}

std::vector<std::string> Testbed::InB(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns_b});
  return argv;
}

} // namespace wgcap::test
