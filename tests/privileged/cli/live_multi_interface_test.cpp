// SPDX-License-Identifier: Apache-2.0
// Issue 22: `wgcap -i mif0,mif1` captures two L3 interfaces at once into one
// pcapng (one interface block and one statistics block each, every packet
// with its interface's id) or one text stream (-e names the interface), with
// each backend. The interfaces are two TUN devices in a namespace of the
// test's own (IPv6 off, strict rp_filter, no route back: the kernel sends
// nothing of its own there), so the test knows exactly which packets went
// through each, in each direction. The namespace goes with everything in it
// (devices, hooks) when the test ends, whatever way it ends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/background_process.hpp"
#include "support/live_wgcap.hpp"
#include "support/packet_builder.hpp"
#include "support/pcapng_blocks.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap::test {
namespace {

using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// One TUN device: its name, its address and the peer address routed to it.
struct Tun {
  std::string dev, local, peer;
  int fd = -1;
};

// A namespace with two TUN devices, each held open by the test (so its
// carrier is up and egress packets leave through it), and a UDP socket.
class TwoTuns {
public:
  TwoTuns() : ns("wgcap-multiif-" + std::to_string(getpid())) {
    (void)test::Run({"ip", "netns", "delete", ns}); // left over by a killed run of this PID
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"ip", "netns", "add", ns},
             {"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
              "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.conf.all.rp_filter=1",
              "net.ipv4.conf.default.rp_filter=1"}}) {
      if (!Step(argv)) {
        return;
      }
    }
    for (const Tun& t : tuns) {
      for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
               {"ip", "-n", ns, "tuntap", "add", "dev", t.dev, "mode", "tun"},
               {"ip", "-n", ns, "addr", "add", t.local + "/24", "dev", t.dev},
               {"ip", "-n", ns, "link", "set", t.dev, "up"}}) {
        if (!Step(argv)) {
          return;
        }
      }
    }
    InNamespace(ns, [this] {
      for (Tun& t : tuns) {
        t.fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        ASSERT_GE(t.fd, 0) << std::strerror(errno);
        ifreq ifr{};
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        std::strncpy(ifr.ifr_name, t.dev.c_str(), IFNAMSIZ - 1);
        ASSERT_EQ(ioctl(t.fd, TUNSETIFF, &ifr), 0) << std::strerror(errno);
      }
      udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ASSERT_GE(udp, 0) << std::strerror(errno);
    });
    if (udp < 0) {
      error = "cannot open the TUN devices";
    }
  }
  ~TwoTuns() {
    for (const Tun& t : tuns) {
      if (t.fd >= 0) {
        close(t.fd);
      }
    }
    if (udp >= 0) {
      close(udp);
    }
    (void)test::Run({"ip", "netns", "delete", ns});
  }
  TwoTuns(const TwoTuns&) = delete;
  TwoTuns& operator=(const TwoTuns&) = delete;

  // `count` UDP packets arriving on tun `i` from an address with no route
  // back (strict rp_filter drops them after the taps and TC ingress).
  void In(int i, int count) {
    const auto p = PacketBuilder::Ipv4("192.0.2.99", tuns[i].local).Udp(40000, 9).Build();
    for (int n = 0; n < count; ++n) {
      ASSERT_EQ(write(tuns[i].fd, p.data(), p.size()), static_cast<ssize_t>(p.size()))
          << std::strerror(errno);
    }
  }
  // `count` UDP packets leaving through tun `i`, to its peer address.
  void Out(int i, int count) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    ASSERT_EQ(inet_pton(AF_INET, tuns[i].peer.c_str(), &to.sin_addr), 1);
    const char payload[] = "wgcap multiif";
    for (int n = 0; n < count; ++n) {
      ASSERT_EQ(
          sendto(udp, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
          static_cast<ssize_t>(sizeof payload))
          << std::strerror(errno);
    }
  }

  // What is attached to a device: tc filters on both hooks, tcx programs.
  std::string Hooks(int i) const {
    std::string out;
    for (const char* hook : {"ingress", "egress"}) {
      out += test::Run({"tc", "-n", ns, "filter", "show", "dev", tuns[i].dev, hook}).out;
    }
    if (const int tcx = TcxPrograms(ns, tuns[i].dev); tcx != 0) {
      out += std::to_string(tcx) + " tcx programs";
    }
    return out;
  }

  const std::string ns;
  Tun tuns[2] = {{"mif0", "198.51.100.1", "198.51.100.2"}, {"mif1", "203.0.113.1", "203.0.113.2"}};
  int udp = -1;
  std::string error; // empty when set up

private:
  bool Step(const std::vector<std::string>& argv) {
    const auto r = test::Run(argv);
    if (r.exit_code != 0) {
      error = argv[0] + " " + argv[1] + " " + argv[2] + " ...: " + r.err;
    }
    return r.exit_code == 0;
  }
};

// Per interface: packets in and out. Distinct numbers, so a packet counted
// on the wrong interface or in the wrong direction shows.
constexpr int kIn[2] = {5, 7};
constexpr int kOut[2] = {3, 4};
constexpr int kTotal = 5 + 7 + 3 + 4;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class MultiInterface : public ::testing::TestWithParam<Backend> {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    tuns_ = std::make_unique<TwoTuns>();
    ASSERT_EQ(tuns_->error, "");
  }
  void TearDown() override { tuns_.reset(); }

  std::vector<std::string> Argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"ip", "netns", "exec", tuns_->ns, "env"};
    const Backend& b = GetParam();
    argv.insert(argv.end(), b.env.begin(), b.env.end());
    argv.push_back(WgcapBinary());
    argv.insert(argv.end(), b.args.begin(), b.args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // wgcap with `args`, listening on both devices; the traffic; SIGINT.
  // Returns wgcap's stderr after it exited 0.
  std::string Capture(const std::vector<std::string>& args, std::string* out = nullptr) {
    BackgroundProcess p(Argv(args), dir_.path(), "wgcap");
    for (const Tun& t : tuns_->tuns) {
      EXPECT_TRUE(
          p.WaitForStderr("listening on " + t.dev + " (" + Listening(GetParam()) + ")", 10s))
          << p.Stderr();
    }
    for (int i : {0, 1}) {
      tuns_->In(i, kIn[i]);
      tuns_->Out(i, kOut[i]);
    }
    std::this_thread::sleep_for(300ms); // the AF_PACKET block timeout is 100 ms
    p.Signal(SIGINT);
    EXPECT_EQ(p.Wait(10s), 0) << p.Stderr();
    if (out != nullptr) {
      *out = "\n" + p.Stdout(); // every line starts after a newline
    }
    for (int i : {0, 1}) {
      EXPECT_EQ(tuns_->Hooks(i), "") << "left attached to " << tuns_->tuns[i].dev;
    }
    return p.Stderr();
  }

  std::unique_ptr<TwoTuns> tuns_;
  TempDir dir_;
};

TEST_P(MultiInterface, OnePcapngWithAnInterfaceBlockAndStatisticsEach) {
  const std::string file = dir_.File("two.pcapng");
  const std::string err = Capture({"-i", "mif0,mif1", "-w", file, "udp"});
  EXPECT_THAT(err, HasSubstr(std::to_string(kTotal) + " packets captured\n"));
  EXPECT_THAT(err, Not(HasSubstr("pcap records name no interface")));

  // tshark: each packet's interface id and name, and its direction.
  const auto r = test::Run({"tshark", "-r", file, "-T", "fields", "-e", "frame.interface_id", "-e",
                            "frame.interface_name", "-e", "frame.packet_flags_direction"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i : {0, 1}) {
    const std::string id = std::to_string(i) + "\t" + tuns_->tuns[i].dev + "\t";
    EXPECT_EQ(CountOf(r.out, id + "0x00000001\n"), kIn[i]) << r.out;
    EXPECT_EQ(CountOf(r.out, id + "0x00000002\n"), kOut[i]) << r.out;
  }
  EXPECT_EQ(CountOf(r.out, "\n"), kTotal) << r.out;
  EXPECT_EQ(TcpdumpCount(file), kTotal);

  // The blocks themselves: names and filter in the order given, and each
  // interface's statistics its own.
  const std::string bytes = ReadFile(file);
  const Walked walked = Walk(Bytes(bytes.begin(), bytes.end()));
  EXPECT_EQ(walked.names, (std::vector<std::string>{"mif0", "mif1"}));
  EXPECT_EQ(walked.filters, (std::vector<std::string>{"udp", "udp"}));
  ASSERT_EQ(walked.statistics.size(), 2u);
  for (std::uint32_t i : {0u, 1u}) {
    const auto& isb = walked.statistics.at(i);
    const std::uint64_t packets = static_cast<std::uint64_t>(kIn[i] + kOut[i]);
    EXPECT_EQ(isb.at(pcapng::kIsbUsrDeliv), packets) << "interface " << i;
    EXPECT_EQ(isb.at(pcapng::kIsbFilterAccept), packets) << "interface " << i;
    EXPECT_EQ(isb.at(pcapng::kIsbIfDrop), 0u) << "interface " << i;
    if (std::string(GetParam().listening) != "afpacket") {
      // The bpf program saw exactly the packets through its interface.
      EXPECT_EQ(isb.at(pcapng::kIsbIfRecv), packets) << "interface " << i;
    }
  }
}

TEST_P(MultiInterface, OneTextStreamNamesEachPacketsInterface) {
  std::string out;
  // In reverse order: the names come from each packet, not from the order.
  const std::string err = Capture({"-i", "mif1,mif0", "-t", "-e", "-v", "--stats", "udp"}, &out);
  for (int i : {0, 1}) {
    const std::string& dev = tuns_->tuns[i].dev;
    EXPECT_EQ(CountOf(out, "\n" + dev + " [IN "), kIn[i]) << out;
    EXPECT_EQ(CountOf(out, "\n" + dev + " [OUT "), kOut[i]) << out;
  }
  // With -v, the summary per interface, in the order given.
  const std::string mif1 = "mif1: " + std::to_string(kIn[1] + kOut[1]) + " packets captured, " +
                           std::to_string(kIn[1] + kOut[1]) +
                           " received by filter, 0 dropped by kernel\n";
  const std::string mif0 = "mif0: " + std::to_string(kIn[0] + kOut[0]) + " packets captured, " +
                           std::to_string(kIn[0] + kOut[0]) +
                           " received by filter, 0 dropped by kernel\n";
  EXPECT_THAT(err, HasSubstr(mif1 + mif0));
  EXPECT_THAT(err, HasSubstr(std::to_string(kTotal) + " packets captured\n"));
  EXPECT_THAT(err, HasSubstr(std::to_string(kTotal) + " packets received by filter\n"));
  // --stats: an object per interface, in the order given, with its counts.
  const std::string backend = "\"backend\":\"" + Listening(GetParam()) + "\"";
  std::string each;
  for (int i : {1, 0}) {
    const std::string packets = std::to_string(kIn[i] + kOut[i]);
    each += (each.empty() ? "" : ",") + std::string("\\{\"name\":\"") + tuns_->tuns[i].dev +
            "\",\"ifindex\":[0-9]+," + backend + ",\"packets\":" + packets +
            ",\"kernel_seen\":[0-9]+,\"kernel_matched\":" + packets +
            ",\"kernel_ring_drops\":0,\"kernel_drops\":0,\"kernel_filter_fallback\":0\\}";
  }
  EXPECT_THAT(err, ContainsRegex(",\"interfaces\":\\[" + each + "\\]\\}\n")) << err;
}

TEST_P(MultiInterface, PcapMixesThemAndSaysSoOnce) {
  const std::string file = dir_.File("two.pcap");
  const std::string err = Capture({"-i", "mif0,mif1", "-w", file, "udp"});
  EXPECT_EQ(CountOf(err, "pcap records name no interface"), 1) << err;
  EXPECT_THAT(err, HasSubstr("mif0 and mif1"));
  EXPECT_EQ(TcpdumpCount(file), kTotal);
}

INSTANTIATE_TEST_SUITE_P(Backends, MultiInterface,
                         ::testing::Values(kAFPacket, kBpfTcx, kBpfClsact),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// Errors come before anything is attached.
class MultiInterfaceErrors : public ::testing::Test {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    tuns_ = std::make_unique<TwoTuns>();
    ASSERT_EQ(tuns_->error, "");
  }
  ProcessResult Wgcap(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip", "netns", "exec", tuns_->ns, WgcapBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::Run(argv);
  }
  std::unique_ptr<TwoTuns> tuns_;
};

TEST_F(MultiInterfaceErrors, AMissingInterfaceIsNamedAndNothingIsLeftAttached) {
  for (const char* mode : {"afpacket", "bpf"}) {
    const auto r = Wgcap({"-i", "mif0,nosuch0,mif1", "--mode", mode, "-c", "1", "udp"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "wgcap: nosuch0: no such interface\n");
    EXPECT_EQ(tuns_->Hooks(0), "");
    EXPECT_EQ(tuns_->Hooks(1), "");
  }
}

TEST_F(MultiInterfaceErrors, AnEmptyOrRepeatedNameIsAUsageError) {
  auto r = Wgcap({"-i", "mif0,,mif1", "udp"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("-i: empty interface name in 'mif0,,mif1'"));
  r = Wgcap({"-i", "mif0,", "udp"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Wgcap({"-i", "mif0,mif1,mif0", "udp"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("-i: mif0 is named twice"));
}

// Two TUN devices without a wireguard-go socket are no WireGuard links.
TEST_F(MultiInterfaceErrors, AllWgWithNoWireGuardLinkIsAClearError) {
  const auto r = Wgcap({"-i", "all-wg", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("wgcap: -i all-wg: no WireGuard interface in this network namespace"));
  EXPECT_THAT(r.err, Not(HasSubstr("listening")));
  EXPECT_EQ(tuns_->Hooks(0), "");
}

} // namespace
} // namespace wgcap::test
