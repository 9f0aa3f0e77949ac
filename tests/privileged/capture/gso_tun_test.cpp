// SPDX-License-Identifier: Apache-2.0
// GSO super-packets carry their segment count and size (SPEC 10) with both
// backends. A TUN device opened with IFF_VNET_HDR takes a packet with a
// virtio_net_hdr in front: written with a GSO type and size, it enters the
// stack as one GSO skb (what GRO makes of a burst), passing the packet taps
// and TC ingress like any received packet. The namespace is the test's own,
// with nothing of the kernel's on the device, and is removed with it.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "capture/afpacket/vnet_header.hpp"
#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/testbed.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

struct Seen {
  std::uint32_t length;
  std::uint16_t segs, size;
};

class GsoRecordingSink final : public PacketSink {
public:
  Status WritePacket(const PacketRecord& p) override {
    std::lock_guard lock(mutex);
    seen.push_back({p.original_length, p.gso_segs, p.gso_size});
    return {};
  }
  Status Flush() override { return {}; }
  std::mutex mutex;
  std::vector<Seen> seen;
};

// One TUN device with vnet headers in a namespace of its own.
class VnetTun {
public:
  VnetTun() : ns("wgcap-gso-" + std::to_string(getpid())) {
    (void)test::Run({"ip", "netns", "delete", ns}); // left by a killed run of this PID
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"ip", "netns", "add", ns},
             {"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
              "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.conf.all.rp_filter=1",
              "net.ipv4.conf.default.rp_filter=1"},
             {"ip", "-n", ns, "tuntap", "add", "dev", dev, "mode", "tun", "vnet_hdr"},
             {"ip", "-n", ns, "link", "set", dev, "up"}}) {
      const auto r = test::Run(argv);
      if (r.exit_code != 0) {
        error = argv[0] + " " + argv[1] + " " + argv[2] + " ...: " + r.err;
        return;
      }
    }
  }
  ~VnetTun() { (void)test::Run({"ip", "netns", "delete", ns}); }
  VnetTun(const VnetTun&) = delete;
  VnetTun& operator=(const VnetTun&) = delete;

  const std::string ns;
  const std::string dev = "gso0";
  std::string error;
};

// struct virtio_net_hdr (<linux/virtio_net.h> does not compile as C++) and
// the values of its fields used here.
struct VnetHeader {
  std::uint8_t flags, gso_type;
  std::uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
constexpr std::uint8_t kNeedsCsum = 1;
constexpr std::uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoTcpV6 = 4;

// `packet` with a virtio_net_hdr saying TCP GSO of `gso_size`, `headers`
// bytes of IP and TCP header in front of the payload.
std::vector<std::uint8_t> WithVnet(const std::vector<std::uint8_t>& packet, std::uint8_t gso_type,
                                   std::uint16_t gso_size, std::uint16_t ip_header) {
  VnetHeader h{};
  if (gso_type != kGsoNone) {
    h.flags = kNeedsCsum;
    h.gso_type = gso_type;
    h.gso_size = gso_size;
    h.hdr_len = static_cast<std::uint16_t>(ip_header + 20);
    h.csum_start = ip_header;
    h.csum_offset = 16; // offsetof(tcphdr, check)
  }
  std::vector<std::uint8_t> out(sizeof h + packet.size());
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, packet.data(), packet.size());
  return out;
}

void WritePackets(const VnetTun& tun, const std::vector<std::vector<std::uint8_t>>& packets) {
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  std::strncpy(ifr.ifr_name, tun.dev.c_str(), IFNAMSIZ - 1);
  ASSERT_EQ(ioctl(fd, TUNSETIFF, &ifr), 0) << std::strerror(errno);
  for (const auto& p : packets) {
    EXPECT_EQ(write(fd, p.data(), p.size()), static_cast<ssize_t>(p.size()))
        << std::strerror(errno);
  }
  close(fd);
}

std::string Release() {
  utsname uts{};
  return uname(&uts) == 0 ? uts.release : "";
}

class GsoTun : public ::testing::TestWithParam<CaptureMode> {};

TEST_P(GsoTun, SuperPacketsCarrySegmentsAndSize) {
  WGCAP_REQUIRE_PRIVILEGES();
  VnetTun tun;
  ASSERT_EQ(tun.error, "");
  // 10 x 1420 bytes of TCP payload over IPv4; 5000 bytes in segments of
  // 1200 over IPv6 (4 full, one of 200); an ordinary UDP packet.
  const auto v4 = test::PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1")
                      .Tcp(40000, 80, 0x10)
                      .PayloadSize(14200)
                      .Build();
  const auto v6 = test::PacketBuilder::Ipv6("2001:db8::1", "2001:db8::2")
                      .Tcp(40000, 80, 0x10)
                      .PayloadSize(5000)
                      .Build();
  const auto udp = test::PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1")
                       .Udp(40000, 9)
                       .PayloadSize(100)
                       .Build();
  GsoRecordingSink sink;
  std::string backend;
  test::InNamespace(tun.ns, [&] {
    Options options;
    options.sinks.push_back(&sink);
    auto session = Session::Create(options);
    ASSERT_TRUE(session.ok());
    CaptureOptions capture_options;
    capture_options.mode = GetParam();
    capture_options.direction = CaptureDirection::In;
    auto capture = OpenCapture(tun.dev, **session, capture_options);
    ASSERT_TRUE(capture.ok()) << capture.error().message;
    backend = (*capture)->description();
    WritePackets(tun, {WithVnet(v4, kGsoTcpV4, 1420, 20), WithVnet(v6, kGsoTcpV6, 1200, 40),
                       WithVnet(udp, kGsoNone, 0, 0)});
    (*capture)->Stop();
    (*session)->Stop();
  });
  ASSERT_EQ(sink.seen.size(), 3u) << backend;
  EXPECT_EQ(sink.seen[0].length, v4.size());
  EXPECT_EQ(sink.seen[1].length, v6.size());
  if (GetParam() == CaptureMode::AfPacket && !KernelAtLeast(Release(), 6, 2)) {
    // AF_PACKET asks for no vnet headers there (vnet_header.hpp) and says so.
    EXPECT_NE(backend.find("no gso info (kernel before 6.2)"), std::string::npos) << backend;
    for (const auto& s : sink.seen) {
      EXPECT_EQ(s.segs, 0);
      EXPECT_EQ(s.size, 0);
    }
    return;
  }
  EXPECT_EQ(sink.seen[0].segs, 10) << backend;
  EXPECT_EQ(sink.seen[0].size, 1420) << backend;
  EXPECT_EQ(sink.seen[1].segs, 5) << backend;
  EXPECT_EQ(sink.seen[1].size, 1200) << backend;
  EXPECT_EQ(sink.seen[2].segs, 0) << backend;
  EXPECT_EQ(sink.seen[2].size, 0) << backend;
}

INSTANTIATE_TEST_SUITE_P(Backends, GsoTun,
                         ::testing::Values(CaptureMode::Bpf, CaptureMode::AfPacket),
                         [](const auto& param_info) {
                           return std::string(param_info.param == CaptureMode::Bpf ? "bpf"
                                                                                   : "afpacket");
                         });

} // namespace
} // namespace wgcap
