// SPDX-License-Identifier: Apache-2.0
// The privilege story (README "Privileges"), measured: wgcap as an
// unprivileged uid (65534) holding exactly the capabilities README lists for
// each backend captures, and with one of them missing fails (or, under
// --mode auto, falls back) with a message naming it. The capabilities are
// set with setpriv as the systemd unit sets them (ambient and bounding set),
// on a veth pair in two network namespaces of the test's own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/background_process.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;
using test::BackgroundProcess;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uid_t kNobody = 65534;
// Documentation addresses (RFC 5737).
const std::string kAddrA = "192.0.2.1";
const std::string kAddrB = "192.0.2.2";

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// "bpf,net_admin" -> "-all,+bpf,+net_admin": setpriv's form for a set that
// holds exactly these.
std::string CapabilitySet(const std::vector<std::string>& caps) {
  std::string set = "-all";
  for (const auto& c : caps) {
    set += ",+" + c;
  }
  return set;
}

class Capabilities : public ::testing::Test {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    // ctest runs the tests of this binary side by side: names of their own.
    const std::string tag = std::to_string(getpid());
    ns_a_ = "wgcap-cap" + tag + "a";
    ns_b_ = "wgcap-cap" + tag + "b";
    if_a_ = "wcp" + tag + "a";
    if_b_ = "wcp" + tag + "b";
    const std::vector<std::vector<std::string>> setup = {
        {"ip", "netns", "add", ns_a_},
        {"ip", "netns", "add", ns_b_},
        {"ip", "link", "add", if_a_, "netns", ns_a_, "type", "veth", "peer", "name", if_b_, "netns",
         ns_b_},
        {"ip", "-n", ns_a_, "addr", "add", kAddrA + "/24", "dev", if_a_},
        {"ip", "-n", ns_b_, "addr", "add", kAddrB + "/24", "dev", if_b_},
        {"ip", "-n", ns_a_, "link", "set", if_a_, "up"},
        {"ip", "-n", ns_b_, "link", "set", if_b_, "up"},
    };
    for (const auto& argv : setup) {
      const auto r = test::Run(argv);
      ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << " " << argv[2] << ": " << r.err;
    }
    // The unprivileged uid must reach the binary (build trees are often
    // private) and may write only where we let it.
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    binary_ = dir_.File("wgcap");
    std::filesystem::copy_file(test::WgcapBinary(), binary_);
    ASSERT_EQ(chmod(binary_.c_str(), 0755), 0);
    output_dir_ = dir_.File("out");
    ASSERT_EQ(mkdir(output_dir_.c_str(), 0700), 0);
    ASSERT_EQ(chown(output_dir_.c_str(), kNobody, kNobody), 0);
  }

  void TearDown() override {
    // The veth pair goes with its namespaces.
    for (const auto& ns : {ns_a_, ns_b_}) {
      if (!ns.empty()) {
        test::Run({"ip", "netns", "del", ns});
      }
    }
  }

  // wgcap -i IF_A in namespace A as uid 65534 with exactly `caps` (effective,
  // permitted, inheritable, ambient and bounding), `env` in its environment.
  std::vector<std::string> WgcapArgv(const std::vector<std::string>& caps,
                                     const std::vector<std::string>& env,
                                     const std::vector<std::string>& args) const {
    const std::string set = CapabilitySet(caps);
    std::vector<std::string> argv = {"ip", "netns", "exec", ns_a_, "env"};
    argv.insert(argv.end(), env.begin(), env.end());
    const std::vector<std::string> setpriv = {"setpriv",
                                              "--reuid=65534",
                                              "--regid=65534",
                                              "--clear-groups",
                                              "--inh-caps=" + set,
                                              "--ambient-caps=" + set,
                                              "--bounding-set=" + set,
                                              "--",
                                              binary_,
                                              "-i",
                                              if_a_};
    argv.insert(argv.end(), setpriv.begin(), setpriv.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Starts wgcap, waits until it listens on `backend`, pings B three times
  // (six ICMP packets), and returns once it exits after `-c 4`.
  void ExpectCapture(const std::vector<std::string>& caps, const std::vector<std::string>& env,
                     const std::vector<std::string>& args, const std::string& backend,
                     const std::string& expression = "icmp") {
    std::vector<std::string> all = {"-c", "4"};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back(expression);
    wgcap_ = std::make_unique<BackgroundProcess>(WgcapArgv(caps, env, all), dir_.path(), "wgcap");
    ASSERT_TRUE(wgcap_->WaitForStderr("listening on " + if_a_ + " (" + backend + ")", 30s))
        << wgcap_->Stderr();
    const auto ping = test::Run(
        {"ip", "netns", "exec", ns_a_, "ping", "-c", "3", "-i", "0.1", "-W", "2", kAddrB});
    ASSERT_EQ(ping.exit_code, 0) << ping.out << ping.err;
    ASSERT_EQ(wgcap_->Wait(15s), std::optional<int>(0)) << wgcap_->Stderr();
    EXPECT_THAT(wgcap_->Stderr(), HasSubstr("4 packets captured"));
  }

  test::ProcessResult RunWgcap(const std::vector<std::string>& caps,
                               const std::vector<std::string>& env,
                               const std::vector<std::string>& args) const {
    return test::Run(WgcapArgv(caps, env, args));
  }

  test::TempDir dir_;
  std::string ns_a_, ns_b_, if_a_, if_b_, binary_, output_dir_;
  std::unique_ptr<BackgroundProcess> wgcap_;
};

// --- the minimum per backend captures ---------------------------------------

// Auto attaches with tcx where the kernel has it (6.6+), else clsact.
std::string AutoBpf() {
  return test::KernelHasTcx() ? "bpf/tcx" : "bpf/tc";
}

// The generated filter passes the restricted verifier (no CAP_PERFMON, no
// CAP_SYS_ADMIN) on every kernel (bpf/README.md).
TEST_F(Capabilities, BpfOnTcxNeedsOnlyCapBpfAndCapNetAdmin) {
  ExpectCapture({"bpf", "net_admin"}, {}, {"--mode", "bpf"}, AutoBpf());
  EXPECT_EQ(CountLines(wgcap_->Stdout(), " ICMP] "), 4) << wgcap_->Stdout();
}

// The header-chain walk under the same set.
TEST_F(Capabilities, ProtochainNeedsOnlyCapBpfAndCapNetAdmin) {
  ExpectCapture({"bpf", "net_admin"}, {}, {"--mode", "bpf"}, AutoBpf(),
                "protochain 1 or proto 44 or ip6 protochain 51");
  EXPECT_EQ(CountLines(wgcap_->Stdout(), " ICMP] "), 4) << wgcap_->Stdout();
}

// The sidecar case end to end: `-c N -w F 'expr'` as uid 65534 with only
// CAP_BPF + CAP_NET_ADMIN; the file holds exactly the packets the expression
// names (the echo requests, not the replies), and the kernel's own counts
// say that it filtered (fewer matched than seen) wherever its filter is exact.
TEST_F(Capabilities, SidecarSetWritesExactlyTheExpressionsPackets) {
  const std::string file = output_dir_ + "/sidecar.pcapng";
  wgcap_ = std::make_unique<BackgroundProcess>(
      WgcapArgv({"bpf", "net_admin"}, {},
                {"--mode", "bpf", "-c", "3", "-w", file, "icmp and dst host " + kAddrB}),
      dir_.path(), "wgcap");
  ASSERT_TRUE(wgcap_->WaitForStderr("listening on " + if_a_ + " (" + AutoBpf() + ")", 30s))
      << wgcap_->Stderr();
  const auto ping =
      test::Run({"ip", "netns", "exec", ns_a_, "ping", "-c", "3", "-i", "0.1", "-W", "2", kAddrB});
  ASSERT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  ASSERT_EQ(wgcap_->Wait(15s), std::optional<int>(0)) << wgcap_->Stderr();
  const std::string err = wgcap_->Stderr();
  EXPECT_THAT(err, HasSubstr("3 packets captured"));
  if (err.find("wgcap: note:") == std::string::npos) {
    // The kernel filtered: only the 3 requests reached the ring (a pass-all
    // program would also have passed the replies).
    EXPECT_THAT(err, HasSubstr("3 packets received by filter"));
  } else {
    EXPECT_EQ(CountLines(err, "wgcap: note:"), 1) << err;
  }
  const auto read = test::Run({test::WgcapBinary(), "-r", file});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(CountLines(read.out, " ICMP] "), 3) << read.out;
  EXPECT_EQ(CountLines(read.out, "echo request"), 3) << read.out;
  EXPECT_EQ(CountLines(read.out, kAddrA + " > " + kAddrB), 3) << read.out;
}

TEST_F(Capabilities, BpfOnClsactNeedsOnlyCapBpfAndCapNetAdmin) {
  ExpectCapture({"bpf", "net_admin"}, {"WGCAP_TC_ATTACH=clsact"}, {"--mode", "bpf"}, "bpf/tc");
  EXPECT_EQ(CountLines(wgcap_->Stdout(), " ICMP] "), 4) << wgcap_->Stdout();
  // The qdisc and filters went with wgcap's exit, done with those two alone.
  const auto filters =
      test::Run({"ip", "netns", "exec", ns_a_, "tc", "filter", "show", "dev", if_a_, "ingress"});
  EXPECT_EQ(filters.out, "");
}

TEST_F(Capabilities, AFPacketNeedsOnlyCapNetRaw) {
  ExpectCapture({"net_raw"}, {}, {"--mode", "afpacket"}, "afpacket");
  EXPECT_EQ(CountLines(wgcap_->Stdout(), " ICMP] "), 4) << wgcap_->Stdout();
}

// The systemd unit's set and its -w into a directory only that uid may write.
TEST_F(Capabilities, UnitSetWritesAPcapFileOnTcx) {
  const std::string file = output_dir_ + "/cap.pcap";
  ExpectCapture({"bpf", "net_admin", "net_raw"}, {}, {"-w", file}, AutoBpf());
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0) << wgcap_->Stderr();
  EXPECT_EQ(st.st_uid, kNobody);
  const auto read = test::Run({test::WgcapBinary(), "-r", file});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(CountLines(read.out, " ICMP] "), 4) << read.out;
}

// --- one capability missing: the message names it ---------------------------

TEST_F(Capabilities, ModeBpfWithoutCapNetAdminNamesIt) {
  const auto r = RunWgcap({"bpf", "net_raw"}, {}, {"--mode", "bpf", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("needs CAP_NET_ADMIN"));
  EXPECT_THAT(r.err, Not(HasSubstr("listening")));
}

TEST_F(Capabilities, ClsactWithoutCapNetAdminNamesIt) {
  const auto r =
      RunWgcap({"bpf", "net_raw"}, {"WGCAP_TC_ATTACH=clsact"}, {"--mode", "bpf", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("needs CAP_NET_ADMIN"));
}

TEST_F(Capabilities, ModeBpfWithoutCapBpfNamesIt) {
  const auto r = RunWgcap({"net_admin", "net_raw"}, {}, {"--mode", "bpf", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("needs CAP_BPF"));
  EXPECT_THAT(r.err, Not(HasSubstr("listening")));
}

TEST_F(Capabilities, AFPacketWithoutCapNetRawNamesIt) {
  const auto r = RunWgcap({"bpf", "net_admin"}, {}, {"--mode", "afpacket", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("CAP_NET_RAW"));
}

TEST_F(Capabilities, AutoWithoutCapBpfFallsBackToAFPacket) {
  ExpectCapture({"net_admin", "net_raw"}, {}, {}, "afpacket");
  const std::string err = wgcap_->Stderr();
  EXPECT_EQ(CountLines(err, "bpf backend unavailable"), 1) << err;
  EXPECT_THAT(err, HasSubstr("needs CAP_BPF"));
  EXPECT_THAT(err, HasSubstr("using afpacket"));
}

TEST_F(Capabilities, AutoWithoutCapNetAdminFallsBackToAFPacket) {
  ExpectCapture({"bpf", "net_raw"}, {}, {}, "afpacket");
  const std::string err = wgcap_->Stderr();
  EXPECT_EQ(CountLines(err, "bpf backend unavailable"), 1) << err;
  EXPECT_THAT(err, HasSubstr("needs CAP_NET_ADMIN"));
}

} // namespace
} // namespace wgcap
