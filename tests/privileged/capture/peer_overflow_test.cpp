// SPDX-License-Identifier: Apache-2.0
// A bpf capture whose `peer` table overflows while it runs (a server past
// wgcap_peers' capacity, or past the room a kernel that charges
// RLIMIT_MEMLOCK gave it): the capture goes on with the last peers that fit,
// says so once on stderr, and keeps capturing what they match. The TUN
// device lives in the test's own namespace, removed with it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "support/relation_builder.hpp"
#include "support/subprocess.hpp"
#include "support/testbed.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/session.hpp"
#include "wgcap_abi.h"

namespace wgcap {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class CountingSink final : public PacketSink {
public:
  Status WritePacket(const PacketRecord&) override {
    ++packets;
    return {};
  }
  Status Flush() override { return {}; }
  std::atomic<int> packets{0};
};

// A TUN device, up, in a namespace named for this branch and process.
struct Tun {
  Tun() : ns("wgcap-fixb-po-" + std::to_string(getpid())) {
    (void)test::Run({"ip", "netns", "delete", ns}); // left by a killed run of this PID
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"ip", "netns", "add", ns},
             {"ip", "-n", ns, "tuntap", "add", "dev", dev, "mode", "tun"},
             {"ip", "-n", ns, "link", "set", dev, "up"}}) {
      if (const auto r = test::Run(argv); r.exit_code != 0) {
        error = argv[3] + ": " + r.err;
        return;
      }
    }
  }
  ~Tun() { (void)test::Run({"ip", "netns", "delete", ns}); }
  Tun(const Tun&) = delete;
  Tun& operator=(const Tun&) = delete;

  const std::string ns;
  const std::string dev = "po0";
  std::string error;
};

void Send(const Tun& tun, const std::vector<std::uint8_t>& packet) {
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, tun.dev.c_str(), IFNAMSIZ - 1);
  ASSERT_EQ(ioctl(fd, TUNSETIFF, &ifr), 0) << std::strerror(errno);
  EXPECT_EQ(write(fd, packet.data(), packet.size()), static_cast<ssize_t>(packet.size()));
  close(fd);
}

// More /128s under 2001:db8::/96 than the kernel's table holds.
std::vector<PeerRoute> TooMany(const PeerKey& key, std::uint8_t salt) {
  std::vector<PeerRoute> routes = {{key, *IpPrefix::Parse("198.51.100.0/24")}};
  for (std::uint32_t i = 0; i < WGCAP_PEER_MAP_ENTRIES; ++i) {
    IpPrefix p{*IpAddress::Parse("2001:db8::"), 128};
    p.address.bytes[11] = salt;
    p.address.bytes[13] = static_cast<std::uint8_t>(i >> 16);
    p.address.bytes[14] = static_cast<std::uint8_t>(i >> 8);
    p.address.bytes[15] = static_cast<std::uint8_t>(i);
    routes.push_back({key, p});
  }
  return routes;
}

bool WaitFor(const std::atomic<int>& value, int want) {
  for (int i = 0; i < 100 && value.load() < want; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  return value.load() >= want;
}

TEST(PeerTableOverflow, TheCaptureGoesOnWithTheLastPeersThatFitAndSaysSoOnce) {
  WGCAP_REQUIRE_PRIVILEGES();
  Tun tun;
  ASSERT_EQ(tun.error, "");
  PeerKey key;
  key.fill(0x5a);
  auto peers = std::make_shared<PeerDirectory>();
  peers->Publish(0, {{key, *IpPrefix::Parse("198.51.100.0/24")}});
  test::AstBuilder b;
  const FilterExpression expression = b.Finish(b.Peer(key));
  const auto from_peer =
      test::PacketBuilder::Ipv4("198.51.100.7", "203.0.113.1").Udp(1, 9).PayloadSize(10).Build();
  const auto from_nobody =
      test::PacketBuilder::Ipv4("192.0.2.7", "203.0.113.1").Udp(1, 9).PayloadSize(10).Build();
  CountingSink sink;
  std::string err;
  test::InNamespace(tun.ns, [&] {
    Options options;
    options.sinks.push_back(&sink);
    auto session = Session::Create(options);
    ASSERT_TRUE(session.ok());
    CaptureOptions o;
    o.mode = CaptureMode::Bpf;
    o.direction = CaptureDirection::In;
    o.expression = expression;
    o.peers = peers;
    auto capture = OpenCapture(tun.dev, **session, o);
    ASSERT_TRUE(capture.ok()) << capture.error().message;
    ASSERT_EQ((*capture)->backend_name().rfind("bpf", 0), 0u) << (*capture)->backend_name();
    Send(tun, from_peer);
    Send(tun, from_nobody);
    EXPECT_TRUE(WaitFor(sink.packets, 1));

    ::testing::internal::CaptureStderr();
    peers->Publish(0, TooMany(key, 1));
    std::this_thread::sleep_for(1s);    // the reader syncs within a poll
    peers->Publish(0, TooMany(key, 2)); // a second overflow is not said again
    std::this_thread::sleep_for(1s);
    ASSERT_FALSE((*capture)->Failed()) << (*capture)->error().error().message;
    Send(tun, from_peer);
    Send(tun, from_nobody);
    EXPECT_TRUE(WaitFor(sink.packets, 2)) << "the kernel kept the peers that fit";
    (*capture)->Stop();
    (*session)->Stop();
    err = ::testing::internal::GetCapturedStderr();
  });
  EXPECT_EQ(sink.packets.load(), 2) << "only the peer's packets, before and after";
  EXPECT_THAT(err, HasSubstr("wgcap: note: capture on " + tun.dev + ": the WireGuard peers have " +
                             std::to_string(WGCAP_PEER_MAP_ENTRIES + 1) + " allowed-ips"));
  const std::string note = "wgcap: note: capture on";
  EXPECT_EQ(err.find(note), err.rfind(note)) << "said once:\n" << err;
}

} // namespace
} // namespace wgcap
