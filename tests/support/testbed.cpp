// SPDX-License-Identifier: Apache-2.0
#include "support/testbed.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "support/privileges.hpp"

namespace wgcap::test {

namespace {

// The value of `WGCAP_NAME=value` in testbed.sh's env output; "" if absent.
// Keys are base64, which bash's %q leaves as it is.
std::string EnvValue(const std::string& env, const std::string& name) {
  const std::string prefix = "WGCAP_" + name + "=";
  for (std::size_t at = 0; at < env.size();) {
    const std::size_t end = std::min(env.find('\n', at), env.size());
    if (env.compare(at, prefix.size(), prefix) == 0) {
      return env.substr(at + prefix.size(), end - at - prefix.size());
    }
    at = end + 1;
  }
  return "";
}

} // namespace

Testbed::Testbed(const std::string& tag, Peers peers) {
  const std::string id = tag + std::to_string(getpid() % 100000);
  ns_a = "wgt-" + id + "-a";
  ns_b = "wgt-" + id + "-b";
  if_a = "wgt" + id + "a";
  if_b = "wgt" + id + "b";
  if (peers == Peers::Three) {
    ns_c = "wgt-" + id + "-c";
    if_c = "wgt" + id + "c";
  }
  const ProcessResult r = Script("up");
  up_ = r.exit_code == 0;
  up_output_ = r.out + r.err;
  key_a = EnvValue(r.out, "KEY_A");
  key_b = EnvValue(r.out, "KEY_B");
  key_c = EnvValue(r.out, "KEY_C");
}

Testbed::~Testbed() {
  Script("down");
}

ProcessResult Testbed::Script(const std::string& verb) const {
  return Run({"env", "WGCAP_NS_A=" + ns_a, "WGCAP_NS_B=" + ns_b, "WGCAP_IF_A=" + if_a,
              "WGCAP_IF_B=" + if_b, "WGCAP_NS_C=" + ns_c, "WGCAP_IF_C=" + if_c,
              std::string(WGCAP_SOURCE_DIR) + "/scripts/testbed.sh", verb});
}

std::string Testbed::HooksOnA() const {
  std::string out;
  for (const char* hook : {"ingress", "egress"}) {
    out += Run(InA({"tc", "filter", "show", "dev", if_a, hook})).out;
  }
  if (const int tcx = TcxPrograms(ns_a, if_a); tcx != 0) {
    out += std::to_string(tcx) + " tcx programs\n";
  }
  return out;
}

void InNamespace(const std::string& ns, const std::function<void()>& body) {
  std::thread t([&] {
    const int fd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << ns;
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0) << std::strerror(errno);
    close(fd);
    body();
  });
  t.join();
}

int TcxPrograms(const std::string& ns, const std::string& interface, TcxHook hook) {
  int total = 0;
  if (!KernelHasTcx()) {
    return 0; // nothing can be attached there, and the query says EINVAL
  }
  InNamespace(ns, [&] {
    const unsigned ifindex = if_nametoindex(interface.c_str());
    ASSERT_NE(ifindex, 0u) << interface;
    for (int type : {46, 47}) { // BPF_TCX_INGRESS, BPF_TCX_EGRESS
      if ((hook == TcxHook::Ingress && type != 46) || (hook == TcxHook::Egress && type != 47)) {
        continue;
      }
      __u32 ids[64] = {};
      __u32 count = 64;
      ASSERT_EQ(bpf_prog_query(static_cast<int>(ifindex), static_cast<bpf_attach_type>(type), 0,
                               nullptr, ids, &count),
                0)
          << std::strerror(errno);
      total += static_cast<int>(count);
    }
  });
  return total;
}

std::vector<std::string> Testbed::InA(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns_a});
  return argv;
}

std::vector<std::string> Testbed::InB(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns_b});
  return argv;
}

std::vector<std::string> Testbed::InC(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns_c});
  return argv;
}

} // namespace wgcap::test
