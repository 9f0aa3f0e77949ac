// SPDX-License-Identifier: Apache-2.0
// `wgcap -i` on the WireGuard testbed, with each backend (afpacket, bpf on
// tcx, bpf on clsact): real decrypted traffic on a wireguard-go interface,
// checked against tcpdump and tshark; hooks gone after every kind of exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <ostream>
#include <thread>

#include "capture/afpacket/afpacket_capture.hpp"
#include "support/background_process.hpp"
#include "support/live_wgcap.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;
using test::BackgroundProcess;
using test::CountOf;
using test::TcpdumpCount;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// One testbed per test process (ctest runs each test in its own).
class TestbedEnvironment : public ::testing::Environment {
public:
  void SetUp() override {
    if (test::MissingPrivileges().empty()) {
      testbed = std::make_unique<test::Testbed>("lc");
    }
  }
  void TearDown() override { testbed.reset(); }
  static inline std::unique_ptr<test::Testbed> testbed;
};
[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new TestbedEnvironment);

struct Backend {
  const char* name;
  std::vector<std::string> env;  // e.g. WGCAP_TC_ATTACH=clsact
  std::vector<std::string> args; // --mode ...
  const char* listening;         // what the listening line names
};

// gtest (and ctest's test names) show the parameter by this.
void PrintTo(const Backend& b, std::ostream* os) {
  *os << b.name;
}

const Backend kAFPacket{"afpacket", {}, {"--mode", "afpacket"}, "afpacket"};
const Backend kBpfTcx{"bpf_tcx", {}, {}, "bpf/tcx"};
const Backend kBpfClsact{"bpf_clsact", {"WGCAP_TC_ATTACH=clsact"}, {"--mode", "bpf"}, "bpf/tc"};

// What the listening line names for `b` on this kernel: the default mode
// falls back to clsact where the kernel lacks tcx (before 6.6).
std::string Listening(const Backend& b) {
  const std::string named = b.listening;
  return named == "bpf/tcx" && !test::KernelHasTcx() ? "bpf/tc" : named;
}

class Live : public ::testing::Test {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    testbed_ = TestbedEnvironment::testbed.get();
    ASSERT_TRUE(testbed_ && testbed_->up()) << (testbed_ ? testbed_->up_output() : "");
  }

  std::vector<std::string> WgcapArgv(const Backend& b, const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"env"};
    argv.insert(argv.end(), b.env.begin(), b.env.end());
    argv.push_back(test::WgcapBinary());
    argv.push_back("-i");
    argv.push_back(testbed_->if_a);
    argv.insert(argv.end(), b.args.begin(), b.args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return testbed_->InA(argv);
  }

  // wgcap in namespace A on the WireGuard interface, started and listening.
  std::unique_ptr<BackgroundProcess> StartWgcap(const Backend& b,
                                                const std::vector<std::string>& args,
                                                const std::string& name = "wgcap") {
    auto p = std::make_unique<BackgroundProcess>(WgcapArgv(b, args), dir_.path(), name);
    EXPECT_TRUE(p->WaitForStderr("listening on " + testbed_->if_a + " (" + Listening(b) + ")", 10s))
        << p->Stderr();
    return p;
  }

  void Ping(const std::string& to, int count) {
    const auto r = test::Run(
        testbed_->InA({"ping", "-c", std::to_string(count), "-i", "0.05", "-W", "2", to}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  std::string Hooks() const { return testbed_->HooksOnA(); }

  test::Testbed* testbed_ = nullptr;
  test::TempDir dir_;
};

class LiveBackend : public Live, public ::testing::WithParamInterface<Backend> {};

TEST_P(LiveBackend, PingWritesTwentyIcmpPacketsInBothDirections) {
  const std::string out = dir_.File("icmp.pcap");
  auto wgcap = StartWgcap(GetParam(), {"-w", out, "--print", "-c", "20", "icmp"});
  Ping(testbed_->addr_b, 10);
  const auto code = wgcap->Wait(10s);
  ASSERT_EQ(code, std::optional<int>(0)) << wgcap->Stderr();
  const std::string text = wgcap->Stdout();
  EXPECT_EQ(CountOf(text, "[OUT ICMP] " + testbed_->addr_a + " > " + testbed_->addr_b), 10) << text;
  EXPECT_EQ(CountOf(text, "[IN  ICMP] " + testbed_->addr_b + " > " + testbed_->addr_a), 10) << text;
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("20 packets captured"));
  EXPECT_EQ(Hooks(), "") << "nothing stays attached after -c ends the capture";
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("0 packets dropped by kernel"));

  // The file, read by both independent readers.
  EXPECT_EQ(TcpdumpCount(out), 20);
  const auto tshark = test::Run({"tshark", "-r", out, "-T", "fields", "-e", "icmp.type"});
  ASSERT_EQ(tshark.exit_code, 0) << tshark.err;
  EXPECT_EQ(CountOf(tshark.out, "8\n"), 10);
  EXPECT_EQ(CountOf(tshark.out, "0\n"), 10);
}

TEST_P(LiveBackend, Ipv6PingIsCapturedWithIp6Filter) {
  auto wgcap = StartWgcap(GetParam(), {"-c", "6", "ip6 and icmp6"});
  Ping(testbed_->addr6_b, 3);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  const std::string text = wgcap->Stdout();
  EXPECT_EQ(CountOf(text, "[OUT ICMP] " + testbed_->addr6_a + " > " + testbed_->addr6_b), 3)
      << text;
  EXPECT_EQ(CountOf(text, "[IN  ICMP] " + testbed_->addr6_b + " > " + testbed_->addr6_a), 3)
      << text;
}

TEST_P(LiveBackend, SameCountAsTcpdumpForUdpAndTcp) {
  const std::string ours = dir_.File("ours.pcap");
  const std::string theirs = dir_.File("theirs.pcap");
  const std::string expression = "udp or tcp";
  auto wgcap = StartWgcap(GetParam(), {"-w", ours, expression});
  BackgroundProcess tcpdump(testbed_->InA({"tcpdump", "-Z", "root", "-B", "8192", "-c", "240", "-i",
                                           testbed_->if_a, "-w", theirs, expression}),
                            dir_.path(), "tcpdump");
  ASSERT_TRUE(tcpdump.WaitForStderr("listening on", 5s)) << tcpdump.Stderr();
  // 200 UDP datagrams to a closed port (answered with ICMP, not counted) and
  // 20 TCP connection attempts to a closed port (SYN out, RST in).
  const std::string script = "for i in $(seq 200); do echo x >/dev/udp/" + testbed_->addr_b +
                             "/9000; done; for i in $(seq 20); do (exec 3<>/dev/tcp/" +
                             testbed_->addr_b + "/9001) 2>/dev/null; done; true";
  const auto traffic = test::Run(testbed_->InA({"bash", "-c", script}));
  ASSERT_EQ(traffic.exit_code, 0) << traffic.err;
  // tcpdump loses what still sits in an unretired TPACKET_V3 block when it
  // gets SIGINT ("N received by filter, 0 captured"), and in immediate mode
  // it drops under this burst; so it stops by itself at the expected count
  // (or is interrupted after a generous wait, and the counts then differ).
  if (!tcpdump.Wait(5s)) {
    tcpdump.Signal(SIGINT);
  }
  wgcap->Signal(SIGINT);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  ASSERT_EQ(tcpdump.Wait(10s), std::optional<int>(0)) << tcpdump.Stderr();
  const int n_ours = TcpdumpCount(ours);
  EXPECT_EQ(n_ours, TcpdumpCount(theirs)) << tcpdump.Stderr();
  EXPECT_EQ(n_ours, 240) << "200 UDP + 20 SYN + 20 RST";
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("240 packets captured"));
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("240 packets received by filter"));
}

TEST_P(LiveBackend, SigtermFinishesTheFileAndPrintsCounts) {
  const std::string out = dir_.File("term.pcap");
  auto wgcap = StartWgcap(GetParam(), {"-w", out});
  Ping(testbed_->addr_b, 4);
  std::this_thread::sleep_for(200ms);
  wgcap->Signal(SIGUSR1);
  ASSERT_TRUE(wgcap->WaitForStderr("packets captured", 5s));
  wgcap->Signal(SIGTERM);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  EXPECT_EQ(CountOf(wgcap->Stderr(), "packets captured"), 2) << "SIGUSR1 and exit";
  EXPECT_EQ(Hooks(), "") << "nothing stays attached after SIGTERM";
  EXPECT_GE(TcpdumpCount(out), 8);
}

TEST_P(LiveBackend, DurationStopsTheCapture) {
  const auto start = std::chrono::steady_clock::now();
  auto wgcap = StartWgcap(GetParam(), {"--duration", "1s", "-w", dir_.File("d.pcap")});
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("0 packets captured"));
  EXPECT_EQ(TcpdumpCount(dir_.File("d.pcap")), 0);
}

// A tmpfs too small for the capture: the write fails mid-way.
class SmallDisk {
public:
  explicit SmallDisk(const std::string& path) : path_(path) {
    const auto r = test::Run({"mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", path_});
    mounted_ = r.exit_code == 0;
    EXPECT_TRUE(mounted_) << r.err;
  }
  ~SmallDisk() {
    if (mounted_) {
      test::Run({"umount", path_});
    }
  }

private:
  std::string path_;
  bool mounted_ = false;
};

TEST_P(LiveBackend, FullDiskStopsWithExitOneKeepingCompleteRecords) {
  const std::string mnt = dir_.File("small");
  ASSERT_EQ(test::Run({"mkdir", mnt}).exit_code, 0);
  SmallDisk disk(mnt);
  const std::string out = mnt + "/full.pcap";
  auto wgcap = StartWgcap(GetParam(), {"-w", out, "icmp"});
  // 40 pings of 1400 bytes each way: far more than 32 KiB.
  test::Run(
      testbed_->InA({"ping", "-c", "40", "-i", "0.01", "-s", "1400", "-W", "1", testbed_->addr_b}));
  const auto code = wgcap->Wait(10s);
  ASSERT_TRUE(code.has_value()) << "still running after the disk filled: " << wgcap->Stderr();
  EXPECT_EQ(*code, 1) << wgcap->Stderr();
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("No space left on device"));
  EXPECT_EQ(Hooks(), "") << "detached after the failure";
  const auto read = test::Run({"tcpdump", "-nn", "-r", out});
  EXPECT_EQ(read.exit_code, 0) << "the records written before the failure stay a valid file: "
                               << read.err;
  EXPECT_GE(CountOf(read.out, "ICMP echo"), 5);
}

TEST_P(LiveBackend, ClosedPipeStopsWithExitOneAndDetaches) {
  std::string argv;
  for (const auto& a : WgcapArgv(GetParam(), {"-w", "-"})) {
    argv += "'" + a + "' ";
  }
  BackgroundProcess pipeline(
      {"bash", "-c", "set -o pipefail; " + argv + " | head -c 100 >/dev/null"}, dir_.path(),
      "pipeline");
  ASSERT_TRUE(pipeline.WaitForStderr("listening on", 10s)) << pipeline.Stderr();
  Ping(testbed_->addr_b, 5);
  const auto code = pipeline.Wait(10s);
  ASSERT_TRUE(code.has_value()) << pipeline.Stderr();
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(pipeline.Stderr(), HasSubstr("Broken pipe"));
  EXPECT_EQ(Hooks(), "");
}

TEST_P(LiveBackend, StatsAndSmallBufferAndSnaplen) {
  auto wgcap = StartWgcap(
      GetParam(), {"-B", "1", "-s", "60", "-c", "4", "--stats", "-w", dir_.File("s.pcap"), "icmp"});
  Ping(testbed_->addr_b, 2);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("{\"backend\":\"" + Listening(GetParam()) + "\""));
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("\"packets\":4,"));
  // The one interface's object: its name and packets, and the kernel
  // counters the totals hold.
  const std::string& err = wgcap->Stderr();
  const auto kernel = err.find("\"kernel_seen\"");
  const auto each = err.find(",\"interfaces\":[");
  ASSERT_LT(kernel, each) << err;
  EXPECT_THAT(err.substr(each),
              ContainsRegex("^,\"interfaces\":\\[\\{\"name\":\"" + testbed_->if_a +
                            "\",\"ifindex\":[1-9][0-9]*,\"backend\":\"" + Listening(GetParam()) +
                            "\",\"packets\":4,"));
  EXPECT_THAT(err.substr(each), HasSubstr(err.substr(kernel, each - kernel) + "}]}\n"));
  const auto read = test::Run({"tcpdump", "-nn", "-r", dir_.File("s.pcap")});
  EXPECT_THAT(read.err, HasSubstr("snapshot length 60"));
  EXPECT_EQ(CountOf(read.out, "ICMP echo"), 4);
}

// pcapng (SPEC 4): the direction in each packet's flags, the interface and
// filter in its description, the final kernel counts in the statistics block
// (SIGINT: the backend publishes them before the session finishes the file).
TEST_P(LiveBackend, PcapngRecordsDirectionInterfaceAndCounts) {
  const std::string out = dir_.File("icmp.pcapng");
  auto wgcap = StartWgcap(GetParam(), {"-w", out, "icmp"});
  Ping(testbed_->addr_b, 5);
  std::this_thread::sleep_for(200ms);
  wgcap->Signal(SIGINT);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  const auto fields = test::Run({"tshark", "-r", out, "-T", "fields", "-e", "frame.interface_name",
                                 "-e", "frame.packet_flags_direction", "-e", "icmp.type"});
  ASSERT_EQ(fields.exit_code, 0) << fields.err;
  EXPECT_EQ(CountOf(fields.out, testbed_->if_a + "\t0x00000002\t8\n"), 5) << fields.out;
  EXPECT_EQ(CountOf(fields.out, testbed_->if_a + "\t0x00000001\t0\n"), 5) << fields.out;
  const auto capinfos = test::Run({"capinfos", out});
  EXPECT_THAT(capinfos.out, HasSubstr("Filter string = icmp"));
  // received, kernel drops, accepted by the filter, userspace drops, written.
  const auto stats = test::Run({"tshark", "-r", out, "-X", "read_format:MIME Files Format", "-T",
                                "fields", "-e", "pcapng.options.option.data.interface.received",
                                "-e", "pcapng.options.option.data.interface.dropped", "-e",
                                "pcapng.options.option.data.interface.accepted_by_filter", "-e",
                                "pcapng.options.option.data.interface.dropped_by_os", "-e",
                                "pcapng.options.option.data.interface.delivered_to_user"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  long received = -1, dropped = -1, accepted = -1, os_dropped = -1, delivered = -1;
  ASSERT_EQ(std::sscanf(stats.out.c_str(), "%ld\t%ld\t%ld\t%ld\t%ld", &received, &dropped,
                        &accepted, &os_dropped, &delivered),
            5)
      << stats.out;
  EXPECT_GE(received, accepted) << stats.out;
  EXPECT_GE(accepted, 10) << stats.out;
  EXPECT_EQ(dropped, 0) << stats.out;
  EXPECT_EQ(os_dropped, 0) << stats.out;
  EXPECT_EQ(delivered, 10) << stats.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, LiveBackend, ::testing::Values(kAFPacket, kBpfTcx, kBpfClsact),
                         [](const ::testing::TestParamInfo<Backend>& b) { return b.param.name; });

TEST_F(Live, DefaultModeIsBpfOnTcx) {
  auto wgcap = StartWgcap(kBpfTcx, {"-c", "2", "icmp"});
  Ping(testbed_->addr_b, 1);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  EXPECT_THAT(wgcap->Stderr(),
              HasSubstr("listening on " + testbed_->if_a + " (" + Listening(kBpfTcx) + ")"));
  EXPECT_THAT(wgcap->Stderr(), ::testing::Not(HasSubstr("unavailable")));
  // The sample path the load probe chose follows the snaplen.
  EXPECT_THAT(wgcap->Stderr(),
              ::testing::ContainsRegex("snaplen 65535, samples by ringbuf (reserve|output)\n"));
}

TEST_F(Live, SigkillOnTcxLeavesNothingAttached) {
  if (!test::KernelHasTcx()) {
    GTEST_SKIP() << "kernel lacks tcx (6.6+); the clsact leftover test covers a killed run";
  }
  auto wgcap = StartWgcap(kBpfTcx, {"-w", dir_.File("k.pcap")});
  EXPECT_NE(Hooks(), "") << "attached while running";
  wgcap->Signal(SIGKILL);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(-1));
  EXPECT_EQ(Hooks(), "") << "the kernel detaches tcx links when the process dies";
}

TEST_F(Live, ClsactLeftoverOfAKilledRunIsRemovedByTheNextStart) {
  auto killed = StartWgcap(kBpfClsact, {"-w", dir_.File("k.pcap")}, "killed");
  killed->Signal(SIGKILL);
  ASSERT_EQ(killed->Wait(10s), std::optional<int>(-1));
  EXPECT_THAT(Hooks(), HasSubstr("pref 49374 bpf")) << "a killed clsact run leaves its filters";
  auto next = StartWgcap(kBpfClsact, {"--duration", "300ms"}, "next");
  ASSERT_EQ(next->Wait(10s), std::optional<int>(0)) << next->Stderr();
  EXPECT_EQ(Hooks(), "") << "the next start removed the leftovers, its exit its own filters";
}

TEST_F(Live, TwoInstancesOnOneInterfaceEachSeeEverything) {
  auto first = StartWgcap(kBpfTcx, {"-c", "8", "icmp"}, "first");
  auto second = StartWgcap(kBpfClsact, {"-c", "8", "icmp"}, "second");
  Ping(testbed_->addr_b, 4);
  ASSERT_EQ(first->Wait(10s), std::optional<int>(0)) << first->Stderr();
  ASSERT_EQ(second->Wait(10s), std::optional<int>(0)) << second->Stderr();
  EXPECT_THAT(first->Stderr(), HasSubstr("8 packets captured"));
  EXPECT_THAT(second->Stderr(), HasSubstr("8 packets captured"));
  EXPECT_EQ(Hooks(), "");
}

TEST_F(Live, WithoutCapBpfAutoFallsBackToAFPacket) {
  auto wgcap = std::make_unique<BackgroundProcess>(
      testbed_->InA({"capsh", "--drop=cap_bpf,cap_sys_admin,cap_perfmon", "--", "-c",
                     test::WgcapBinary() + " -i " + testbed_->if_a + " -c 4 icmp"}),
      dir_.path(), "fallback");
  ASSERT_TRUE(wgcap->WaitForStderr("listening on " + testbed_->if_a + " (afpacket)", 10s))
      << wgcap->Stderr();
  Ping(testbed_->addr_b, 2);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  const std::string err = wgcap->Stderr();
  EXPECT_EQ(CountOf(err, "bpf backend unavailable"), 1) << err;
  EXPECT_THAT(err, HasSubstr("needs CAP_BPF"));
  EXPECT_THAT(err, HasSubstr("using afpacket"));
  EXPECT_THAT(err, HasSubstr("4 packets captured"));
  EXPECT_EQ(CountOf(wgcap->Stdout(), " ICMP] "), 4);
}

TEST_F(Live, ModeBpfWithoutCapBpfFailsWithTheReason) {
  const auto r =
      test::Run(testbed_->InA({"capsh", "--drop=cap_bpf,cap_sys_admin,cap_perfmon", "--", "-c",
                               test::WgcapBinary() + " -i " + testbed_->if_a + " --mode bpf"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("needs CAP_BPF"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("listening")));
}

TEST_F(Live, MissingInterfaceIsAClearError) {
  // SPEC 6: this one line, with nothing before it, whichever backend.
  for (const char* mode : {"auto", "bpf", "afpacket"}) {
    const auto r = test::Run(testbed_->InA({test::WgcapBinary(), "-i", "nosuch0", "--mode", mode}));
    EXPECT_EQ(r.exit_code, 1) << mode;
    EXPECT_EQ(r.err, "wgcap: nosuch0: no such interface\n") << mode;
  }
  EXPECT_EQ(Hooks(), "");
}

TEST_F(Live, WithoutCapNetRawTheMessageNamesIt) {
  const auto r = test::Run(
      testbed_->InA({"capsh", "--drop=cap_net_raw", "--", "-c",
                     test::WgcapBinary() + " -i " + testbed_->if_a + " --mode afpacket -c 1"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("CAP_NET_RAW"));
}

class RecordingSink final : public PacketSink {
public:
  Status WritePacket(const PacketRecord& p) override {
    std::lock_guard lock(mutex);
    packets.push_back({std::vector<std::uint8_t>(p.data.begin(), p.data.end()), p.direction});
    return {};
  }
  Status Flush() override { return {}; }
  std::mutex mutex;
  std::vector<std::pair<std::vector<std::uint8_t>, Direction>> packets;
};

TEST_F(Live, StartStopLifecycle) {
  test::InNamespace(testbed_->ns_a, [&] {
    RecordingSink sink;
    Options options;
    options.sinks.push_back(&sink);
    auto session = Session::Create(options);
    ASSERT_TRUE(session.ok());
    AFPacketCapture capture(testbed_->if_a, **session);
    ASSERT_TRUE(capture.Start().ok());
    const Status again = capture.Start();
    ASSERT_FALSE(again.ok());
    EXPECT_THAT(again.error().message, HasSubstr("already started"));
    capture.Stop();
    capture.Stop(); // idempotent
    const Status restart = capture.Start();
    ASSERT_FALSE(restart.ok());
    EXPECT_THAT(restart.error().message, HasSubstr("cannot start after Stop"));

    AFPacketCapture missing("nosuch0", **session);
    const Status err = missing.Start();
    ASSERT_FALSE(err.ok());
    EXPECT_EQ(err.error().message, "interface nosuch0: No such device");
    (*session)->Stop();
  });
}

// On an Ethernet device (the veth underlay) the link header is stripped:
// what reaches the session starts at the IP header, both directions.
TEST_F(Live, EthernetHeadersAreStripped) {
  test::InNamespace(testbed_->ns_a, [&] {
    RecordingSink sink;
    Options options;
    options.sinks.push_back(&sink);
    auto session = Session::Create(options);
    ASSERT_TRUE(session.ok());
    AFPacketOptions capture_options;
    capture_options.expression = ParseFilterExpression("icmp and host 192.0.2.2").value();
    AFPacketCapture capture("veth-a", **session, std::move(capture_options));
    ASSERT_TRUE(capture.Start().ok());
    const auto ping = test::Run({"ping", "-c", "3", "-i", "0.05", "-W", "2", "192.0.2.2"});
    ASSERT_EQ(ping.exit_code, 0) << ping.out;
    capture.Stop();
    (*session)->Stop();
    ASSERT_EQ(sink.packets.size(), 6u);
    int out = 0;
    for (const auto& [bytes, dir] : sink.packets) {
      ASSERT_GE(bytes.size(), 20u);
      EXPECT_EQ(bytes[0], 0x45) << "an IPv4 header, not an Ethernet header";
      EXPECT_EQ(bytes[9], 1) << "ICMP";
      out += dir == Direction::Outbound;
    }
    EXPECT_EQ(out, 3);
  });
}

} // namespace
} // namespace wgcap
