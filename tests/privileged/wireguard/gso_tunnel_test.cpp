// SPDX-License-Identifier: Apache-2.0
// A TCP bulk transfer through the testbed's tunnel, captured on the
// sender's WireGuard egress (SPEC 10): the kernel hands TCP's super-packets
// to the device whole (TC egress runs before any segmentation), kernel
// WireGuard segments them itself before encrypting, a TUN device (that of
// wireguard-go) has the stack segment them in software right before its
// driver; either way the devices count one packet per segment. Hence, over
// every packet the capture saw, the sum of max(gso_segs, 1) equals the
// segments the sending device sent or dropped, and equals what the
// receiving device counted unless some were lost on the way, which TCP
// then retransmitted (its count bounds the difference).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/live_wgcap.hpp"
#include "support/subprocess.hpp"
#include "support/testbed.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/packet_parse.hpp"
#include "wgcap/session.hpp"

namespace wgcap::test {
namespace {

[[maybe_unused]] const auto* const kEnv =
    ::testing::AddGlobalTestEnvironment(new LiveTestbed("gs"));

constexpr std::uint16_t kPort = 5201;
constexpr std::size_t kBytes = 4u << 20;

struct Seen {
  std::uint32_t payload; // TCP payload bytes
  std::uint16_t segs, size;
};

class TcpPayloadSink final : public PacketSink {
public:
  Status WritePacket(const PacketRecord& p) override {
    const ParsedPacket parsed = ParsePacket(p.data, p.original_length);
    std::uint32_t payload = 0;
    const std::uint32_t l4 = parsed.transport_offset;
    if (parsed.has_protocol && parsed.protocol == kProtoTcp && p.data.size() >= l4 + 13) {
      const std::uint32_t headers = l4 + 4u * (p.data[l4 + 12] >> 4);
      payload = p.original_length > headers ? p.original_length - headers : 0;
    }
    std::lock_guard lock(mutex);
    seen.push_back({payload, p.gso_segs, p.gso_size});
    return {};
  }
  Status Flush() override { return {}; }
  std::mutex mutex;
  std::vector<Seen> seen;
};

// A counter of `interface` in namespace `ns` (rx_packets, tx_packets, ...).
std::int64_t Counter(const std::string& ns, const std::string& interface, const std::string& name) {
  const auto r = Run(
      {"ip", "netns", "exec", ns, "cat", "/sys/class/net/" + interface + "/statistics/" + name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::atoll(r.out.c_str());
}

struct Counts {
  std::int64_t sent = 0;     // the sender's device: tx_packets + tx_dropped
  std::int64_t received = 0; // the receiver's device: rx_packets
};

Counts Read(const Testbed& tb) {
  return {Counter(tb.ns_a, tb.if_a, "tx_packets") + Counter(tb.ns_a, tb.if_a, "tx_dropped"),
          Counter(tb.ns_b, tb.if_b, "rx_packets")};
}

sockaddr_in Address(const std::string& ip) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

// Listens in B and counts what arrives until the sender closes.
void Receive(const Testbed& tb, int listener, std::size_t& received) {
  InNamespace(tb.ns_b, [&] {
    const int conn = accept(listener, nullptr, nullptr);
    ASSERT_GE(conn, 0) << std::strerror(errno);
    std::vector<char> buf(1 << 16);
    for (;;) {
      const ssize_t n = read(conn, buf.data(), buf.size());
      if (n <= 0) {
        break;
      }
      received += static_cast<std::size_t>(n);
    }
    close(conn);
  });
}

// Returns the segments TCP retransmitted.
std::uint32_t Send(const Testbed& tb) {
  std::uint32_t retransmitted = 0;
  InNamespace(tb.ns_a, [&] {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    const sockaddr_in to = Address(tb.addr_b);
    ASSERT_EQ(connect(s, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0)
        << std::strerror(errno);
    const std::vector<char> chunk(1 << 16, 'x');
    for (std::size_t sent = 0; sent < kBytes;) {
      const ssize_t n = write(s, chunk.data(), std::min(chunk.size(), kBytes - sent));
      ASSERT_GT(n, 0) << std::strerror(errno);
      sent += static_cast<std::size_t>(n);
    }
    shutdown(s, SHUT_WR);
    char byte;
    (void)!read(s, &byte, 1); // the receiver's close: everything was acknowledged
    tcp_info info{};
    socklen_t len = sizeof info;
    ASSERT_EQ(getsockopt(s, IPPROTO_TCP, TCP_INFO, &info, &len), 0) << std::strerror(errno);
    retransmitted = info.tcpi_total_retrans;
    close(s);
  });
  return retransmitted;
}

// What one transfer showed: the capture's packets, the devices' counts.
struct Transfer {
  std::vector<Seen> seen;
  std::string listening; // the backend's description
  std::size_t received = 0;
  std::int64_t sent = 0, counted = 0; // the devices' deltas (Counts)
  std::uint32_t retransmitted = 0;
};

int Listen(const Testbed& tb) {
  int listener = -1;
  InNamespace(tb.ns_b, [&] {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in at = Address(tb.addr_b);
    ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&at), sizeof at), 0)
        << std::strerror(errno);
    ASSERT_EQ(listen(listener, 1), 0);
  });
  return listener;
}

// kBytes from A to B, captured on A's egress with `mode`.
Transfer CapturedTransfer(const Testbed& tb, CaptureMode mode) {
  Transfer t;
  const int listener = Listen(tb);
  EXPECT_GE(listener, 0);
  TcpPayloadSink sink;
  Counts before, after;
  InNamespace(tb.ns_a, [&] {
    Options options;
    options.sinks.push_back(&sink);
    auto session = Session::Create(options);
    ASSERT_TRUE(session.ok());
    CaptureOptions capture_options;
    capture_options.mode = mode;
    capture_options.direction = CaptureDirection::Out;
    capture_options.snaplen = 128;
    auto capture = OpenCapture(tb.if_a, **session, capture_options);
    ASSERT_TRUE(capture.ok()) << capture.error().message;
    t.listening = (*capture)->description();
    before = Read(tb);
    std::thread receiver([&] { Receive(tb, listener, t.received); });
    t.retransmitted = Send(tb);
    receiver.join();
    // The last ACK of the close, and what the ring still holds.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    after = Read(tb);
    (*capture)->Stop();
    (*session)->Stop();
  });
  close(listener);
  t.seen = std::move(sink.seen);
  t.sent = after.sent - before.sent;
  t.counted = after.received - before.received;
  return t;
}

class GsoTunnel : public LiveTest, public ::testing::WithParamInterface<CaptureMode> {};

TEST_P(GsoTunnel, SegmentsOnEgressAddUpToWhatTheDevicesCounted) {
  const auto link = test::Run(testbed_->InA({"ip", "-d", "link", "show", testbed_->if_a}));
  const bool kernel_wg = link.out.find("wireguard") != std::string::npos;
  const Transfer t = CapturedTransfer(*testbed_, GetParam());
  ASSERT_EQ(t.received, kBytes);
  std::int64_t segments = 0, super_packets = 0, payload = 0;
  for (const Seen& s : t.seen) {
    segments += std::max<std::int64_t>(s.segs, 1);
    payload += s.payload;
    if (s.size == 0) {
      EXPECT_EQ(s.segs, 0);
      continue;
    }
    ++super_packets;
    // As TCP cut it: full segments of gso_size, the last one possibly short.
    EXPECT_GT(s.payload, (s.segs - 1u) * s.size);
    EXPECT_LE(s.payload, std::uint32_t{s.segs} * s.size);
  }
  EXPECT_GE(payload, static_cast<std::int64_t>(kBytes)); // retransmissions add to it
  std::printf("gso: %s WireGuard, %s: %zu packets captured, %lld super-packets, %lld segments; "
              "sender's device sent %lld, receiver's counted %lld, TCP retransmitted %u\n",
              kernel_wg ? "kernel" : "userspace", t.listening.c_str(), t.seen.size(),
              static_cast<long long>(super_packets), static_cast<long long>(segments),
              static_cast<long long>(t.sent), static_cast<long long>(t.counted), t.retransmitted);
  if (t.listening.find("no gso info") != std::string::npos) {
    // AF_PACKET where the kernel cannot give it (vnet_header.hpp): it says
    // so, and what it saw carries none.
    EXPECT_EQ(GetParam(), CaptureMode::AfPacket) << t.listening;
    EXPECT_EQ(super_packets, 0);
    return;
  }
  EXPECT_EQ(segments, t.sent) << t.listening;
  EXPECT_GE(segments, t.counted);
  EXPECT_LE(segments, t.counted + t.retransmitted);
  if (kernel_wg) {
    EXPECT_GT(super_packets, 0) << "kernel WireGuard takes TCP's super-packets whole";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, GsoTunnel,
                         ::testing::Values(CaptureMode::Bpf, CaptureMode::AfPacket),
                         [](const auto& param_info) {
                           return std::string(param_info.param == CaptureMode::Bpf ? "bpf"
                                                                                   : "afpacket");
                         });

} // namespace
} // namespace wgcap::test
