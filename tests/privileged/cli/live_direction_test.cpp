// SPDX-License-Identifier: Apache-2.0
// -Q in|out on the WireGuard testbed with each backend: only that direction
// is captured, with exact counts, and it is selected in the kernel: bpf
// attaches only that hook (one tcx link, or one cls_bpf filter), afpacket
// attaches nothing to the device. Nothing stays attached after exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "base/unique_fd.hpp"
#include "filter/classic_filter.hpp"
#include "support/live_wgcap.hpp"
#include "support/subprocess.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new LiveTestbed("lq"));

struct Case {
  Backend backend;
  bool in; // -Q in, else -Q out
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.backend.name << (c.in ? "_in" : "_out");
}

class LiveDirection : public LiveTest, public ::testing::WithParamInterface<Case> {
protected:
  // While wgcap runs: what is attached where.
  void ExpectOnlyTheOneHook(const Backend& b, bool in) {
    const char* hook = in ? "ingress" : "egress";
    const char* other = in ? "egress" : "ingress";
    if (IsTcx(b)) {
      EXPECT_EQ(
          TcxPrograms(testbed_->ns_a, testbed_->if_a, in ? TcxHook::Ingress : TcxHook::Egress), 1);
      EXPECT_EQ(
          TcxPrograms(testbed_->ns_a, testbed_->if_a, in ? TcxHook::Egress : TcxHook::Ingress), 0);
      EXPECT_EQ(TcFilters("ingress") + TcFilters("egress"), "");
    } else if (IsClsact(b)) {
      EXPECT_THAT(TcFilters(hook), HasSubstr(std::string("wgcap_") + hook + " direct-action"));
      EXPECT_EQ(TcFilters(other), "") << "no filter on the " << other << " hook";
      EXPECT_EQ(TcxPrograms(testbed_->ns_a, testbed_->if_a), 0);
    } else {
      EXPECT_EQ(Hooks(), "") << "afpacket attaches nothing to the device";
    }
  }
};

TEST_P(LiveDirection, CapturesOnlyThatDirectionWithOneHook) {
  const Case c = GetParam();
  const std::string out = dir_.File("q.pcap");
  auto wgcap = StartWgcap(c.backend, {"-Q", c.in ? "in" : "out", "--print", "-w", out, "icmp"});
  ExpectOnlyTheOneHook(c.backend, c.in);
  Ping(testbed_->addr_b, 5);
  Ping(testbed_->addr6_b, 2); // ICMPv6: not "icmp", so the filter still counts
  std::this_thread::sleep_for(300ms);
  wgcap->Signal(SIGINT);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  const std::string text = wgcap->Stdout();
  const std::string kept = c.in ? "[IN" : "[OUT";
  const std::string dropped = c.in ? "[OUT" : "[IN";
  EXPECT_EQ(CountOf(text, kept), 5) << text;
  EXPECT_EQ(CountOf(text, dropped), 0) << text;
  EXPECT_EQ(CountOf(text, c.in ? testbed_->addr_b + " > " + testbed_->addr_a
                               : testbed_->addr_a + " > " + testbed_->addr_b),
            5)
      << text;
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("\n5 packets captured"));
  EXPECT_EQ(TcpdumpCount(out), 5);
  EXPECT_EQ(Hooks(), "") << "nothing stays attached after SIGINT";
  EXPECT_FALSE(HasClsactQdisc());
}

// The bpf program's kernel counters see only the attached hook: "received
// by filter" counts one direction, not both.
TEST_P(LiveDirection, KernelCountsOnlyThatDirection) {
  const Case c = GetParam();
  auto wgcap = StartWgcap(c.backend, {"-Q", c.in ? "in" : "out", "-w", dir_.File("k.pcap")});
  Ping(testbed_->addr_b, 3);
  std::this_thread::sleep_for(300ms);
  wgcap->Signal(SIGINT);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("\n3 packets captured\n3 packets received by filter"));
}

INSTANTIATE_TEST_SUITE_P(Backends, LiveDirection,
                         ::testing::Values(Case{kAFPacket, true}, Case{kAFPacket, false},
                                           Case{kBpfTcx, true}, Case{kBpfTcx, false},
                                           Case{kBpfClsact, true}, Case{kBpfClsact, false}),
                         [](const ::testing::TestParamInfo<Case>& c) {
                           return std::string(c.param.backend.name) + (c.param.in ? "_in" : "_out");
                         });

// The prologue alone, on a real packet socket without PACKET_IGNORE_OUTGOING
// (what -Q in relies on before Linux 4.20, and -Q out always): outgoing
// packets are PACKET_OUTGOING there, and only the asked type gets through.
std::vector<int> PacketTypesThrough(const Testbed& tb, Direction keep) {
  std::vector<int> types;
  InNamespace(tb.ns_a, [&] {
    UniqueFd sock(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(sock.valid()) << std::strerror(errno);
    ClassicProgram p = KeepOnlyDirection(
        CompileClassicFilter(ParseFilterExpression("icmp").value(), 65535), keep, 65535);
    sock_fprog prog{static_cast<unsigned short>(p.instructions.size()), p.instructions.data()};
    ASSERT_EQ(setsockopt(sock.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), 0)
        << "the kernel's classic checker refused the prologue: " << std::strerror(errno);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(if_nametoindex(tb.if_a.c_str()));
    ASSERT_EQ(bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const auto ping = Run({"ping", "-c", "3", "-i", "0.05", "-W", "2", tb.addr_b});
    ASSERT_EQ(ping.exit_code, 0) << ping.out;
    std::uint8_t buf[2048];
    for (;;) {
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      if (recvfrom(sock.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                   &len) < 0) {
        break;
      }
      types.push_back(from.sll_pkttype);
    }
  });
  return types;
}

TEST_F(LiveTest, PacketTypePrologueOnARealSocket) {
  EXPECT_EQ(PacketTypesThrough(*testbed_, Direction::Outbound),
            std::vector<int>(3, PACKET_OUTGOING));
  EXPECT_EQ(PacketTypesThrough(*testbed_, Direction::Inbound), std::vector<int>(3, PACKET_HOST));
}

TEST_F(LiveTest, DumpShowsThePacketTypeCheckWithQ) {
  const auto r = test::Run({WgcapBinary(), "-d", "-Q", "out", "icmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("#pkttype"));
  EXPECT_THAT(test::Run({WgcapBinary(), "-d", "icmp"}).out, Not(HasSubstr("#pkttype")));
}

} // namespace
} // namespace wgcap::test
