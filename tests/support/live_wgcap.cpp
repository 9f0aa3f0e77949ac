// SPDX-License-Identifier: Apache-2.0
#include "support/live_wgcap.hpp"

#include <chrono>
#include <regex>

#include "support/privileges.hpp"
#include "support/subprocess.hpp"

namespace wgcap::test {

using namespace std::chrono_literals;

const Backend kAFPacket{"afpacket", {}, {"--mode", "afpacket"}, "afpacket"};
const Backend kBpfTcx{"bpf_tcx", {}, {}, "bpf/tcx"};
const Backend kBpfClsact{"bpf_clsact", {"WGCAP_TC_ATTACH=clsact"}, {"--mode", "bpf"}, "bpf/tc"};

std::string Listening(const Backend& b) {
  const std::string named = b.listening;
  return named == "bpf/tcx" && !KernelHasTcx() ? "bpf/tc" : named;
}

bool IsClsact(const Backend& b) {
  return Listening(b) == "bpf/tc";
}

bool IsTcx(const Backend& b) {
  return Listening(b) == "bpf/tcx";
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

int TcpdumpCount(const std::string& file) {
  const auto r = test::Run({"tcpdump", "-nn", "-r", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return CountOf(r.out, "\n");
}

void LiveTestbed::SetUp() {
  if (MissingPrivileges().empty()) {
    current = std::make_unique<Testbed>(tag_, peers_);
  }
}

void LiveTest::SetUp() {
  WGCAP_REQUIRE_PRIVILEGES();
  testbed_ = LiveTestbed::current.get();
  ASSERT_TRUE(testbed_ && testbed_->up()) << (testbed_ ? testbed_->up_output() : "");
}

std::vector<std::string> LiveTest::WgcapArgv(const Backend& b,
                                             const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"env"};
  argv.insert(argv.end(), b.env.begin(), b.env.end());
  argv.push_back(WgcapBinary());
  argv.push_back("-i");
  argv.push_back(testbed_->if_a);
  argv.insert(argv.end(), b.args.begin(), b.args.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return testbed_->InA(argv);
}

std::unique_ptr<BackgroundProcess> LiveTest::StartWgcap(const Backend& b,
                                                        const std::vector<std::string>& args,
                                                        const std::string& name) {
  auto p = std::make_unique<BackgroundProcess>(WgcapArgv(b, args), dir_.path(), name);
  EXPECT_TRUE(p->WaitForStderr("listening on " + testbed_->if_a + " (" + Listening(b) + ")", 10s))
      << p->Stderr();
  return p;
}

void LiveTest::Ping(const std::string& to, int count) {
  const auto r =
      test::Run(testbed_->InA({"ping", "-c", std::to_string(count), "-i", "0.05", "-W", "2", to}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

std::string LiveTest::TcFilters(const char* hook) const {
  return test::Run(testbed_->InA({"tc", "filter", "show", "dev", testbed_->if_a, hook})).out;
}

bool LiveTest::HasClsactQdisc() const {
  const auto r = test::Run(testbed_->InA({"tc", "qdisc", "show", "dev", testbed_->if_a}));
  return r.out.find("clsact") != std::string::npos;
}

std::int64_t StatsField(const std::string& err, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("\"" + name + "\":([0-9]+)"))) {
    ADD_FAILURE() << "no \"" << name << "\" in --stats output: " << err;
    return -1;
  }
  return std::stoll(m[1].str());
}

} // namespace wgcap::test
