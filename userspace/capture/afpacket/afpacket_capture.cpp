// SPDX-License-Identifier: Apache-2.0
#include "capture/afpacket/afpacket_capture.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/unique_fd.hpp"
#include "capture/afpacket/vnet_header.hpp"
#include "capture/lifecycle.hpp"
#include "filter/classic_filter.hpp"

namespace wgcap {
namespace {

constexpr int kPollIntervalMs = 100;
// Blocks are handed to userspace when full or after this long, so a quiet
// interface still shows its packets promptly.
constexpr unsigned kBlockTimeoutMs = 50;

Error SocketError(std::string_view what, int errnum, const std::string& interface) {
  if (errnum == EPERM || errnum == EACCES) {
    return ErrnoError(what, errnum, "capturing with AF_PACKET needs CAP_NET_RAW");
  }
  if (errnum == ENODEV || errnum == ENXIO) {
    return ErrnoError("interface " + interface, errnum);
  }
  return ErrnoError(std::string(what) + " on " + interface, errnum);
}

// A ring of block_count blocks of block_size bytes.
struct RingGeometry {
  unsigned block_size;
  unsigned block_count;
};

RingGeometry Geometry(std::uint32_t buffer_bytes) {
  const unsigned block = buffer_bytes >= (4u << 20) ? (1u << 20) : (1u << 17);
  unsigned count = buffer_bytes / block;
  return RingGeometry{block, count < 2 ? 2 : count};
}

} // namespace

struct AFPacketCapture::Impl {
  std::string interface;
  Session& session;
  AFPacketOptions options;

  UniqueFd socket;
  UniqueFd wake; // eventfd: Stop wakes the read loop
  std::uint8_t* ring = nullptr;
  std::size_t ring_bytes = 0;
  RingGeometry geometry{};
  int ifindex = 0;
  unsigned current = 0; // the next block in ring order
  ClassicProgram filter;
  VnetChoice vnet; // whether each frame carries a virtio_net_hdr (GSO info)

  std::thread reader;
  CaptureLifecycle life{"AFPacketCapture on " + interface};
  std::atomic<bool> stop_requested{false}; // set by Stop, read between blocks

  // PACKET_STATISTICS resets on read; these accumulate.
  std::int64_t kernel_packets = 0;
  std::int64_t kernel_drops = 0;

  Impl(std::string i, Session& s, AFPacketOptions o)
      : interface(std::move(i)), session(s), options(std::move(o)) {}

  ~Impl() {
    if (ring != nullptr) {
      munmap(ring, ring_bytes);
    }
  }

  Status Open() {
    ifindex = options.ifindex != 0 ? options.ifindex
                                   : static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) {
      return ErrnoError("interface " + interface, errno == 0 ? ENODEV : errno);
    }
    // Protocol 0: nothing is queued until bind, which comes after the filter,
    // so no unfiltered packet slips in.
    socket.Reset(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!socket.valid()) {
      return SocketError("socket(AF_PACKET)", errno, interface);
    }
    if (auto opened = OpenForVnet(); !opened) {
      return opened;
    }
    filter = CompileClassicFilter(options.expression, options.snaplen);
    if (options.direction != CaptureDirection::InOut) {
      filter = KeepOnlyDirection(std::move(filter),
                                 options.direction == CaptureDirection::In ? Direction::Inbound
                                                                           : Direction::Outbound,
                                 options.snaplen);
    }
    if (options.direction == CaptureDirection::In) {
      // Linux 4.20+: outgoing packets are not even queued to the socket. The
      // filter's packet-type check stays: older kernels refuse this option.
      const int one = 1;
      (void)setsockopt(socket.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    }
    sock_fprog prog{static_cast<unsigned short>(filter.instructions.size()),
                    filter.instructions.data()};
    if (setsockopt(socket.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
      return SocketError("SO_ATTACH_FILTER", errno, interface);
    }
    if (vnet.use) {
      // Before the ring: the kernel sizes frames with it. A kernel that
      // refuses it only costs the GSO info.
      const int one = 1;
      if (setsockopt(socket.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0) {
        vnet = {false, "no gso info (PACKET_VNET_HDR: " + std::string(strerror(errno)) + ")"};
      }
    }
    int version = TPACKET_V3;
    if (setsockopt(socket.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
      return SocketError("PACKET_VERSION TPACKET_V3", errno, interface);
    }
    geometry = Geometry(options.buffer_bytes);
    tpacket_req3 req{};
    req.tp_block_size = geometry.block_size;
    req.tp_block_nr = geometry.block_count;
    req.tp_frame_size = 2048;
    req.tp_frame_nr = geometry.block_size / 2048 * geometry.block_count;
    req.tp_retire_blk_tov = kBlockTimeoutMs;
    if (setsockopt(socket.get(), SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
      return SocketError("PACKET_RX_RING", errno, interface);
    }
    ring_bytes = static_cast<std::size_t>(geometry.block_size) * geometry.block_count;
    void* map =
        mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, socket.get(), 0);
    if (map == MAP_FAILED) {
      // MAP_LOCKED can fail under RLIMIT_MEMLOCK; the ring works unlocked.
      map = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, socket.get(), 0);
    }
    if (map == MAP_FAILED) {
      return SocketError("mmap of the packet ring", errno, interface);
    }
    ring = static_cast<std::uint8_t*>(map);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = ifindex;
    if (bind(socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return SocketError("bind", errno, interface);
    }
    wake.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake.valid()) {
      return ErrnoError("eventfd", errno);
    }
    return {};
  }

  // The kernel writes vnet headers (GSO info) only to SOCK_RAW sockets;
  // where ChooseVnet takes them (no link header) SOCK_RAW sees and filters
  // exactly what SOCK_DGRAM does, so the socket is reopened as SOCK_RAW.
  Status OpenForVnet() {
    utsname uts{};
    vnet = ChooseVnet(socket.get(), ifindex, uname(&uts) == 0 ? uts.release : "");
    if (!vnet.use) {
      return {};
    }
    socket.Reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!socket.valid()) {
      return SocketError("socket(AF_PACKET)", errno, interface);
    }
    return {};
  }

  void Fail(Error e) { life.Fail(std::move(e)); }

  void PublishCounters() {
    tpacket_stats_v3 st{};
    socklen_t len = sizeof st;
    if (getsockopt(socket.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
      kernel_packets += st.tp_packets; // includes tp_drops
      kernel_drops += st.tp_drops;
    }
    KernelCounters c;
    c.matched = kernel_packets;
    c.drops = kernel_drops;
    c.filter_fallback = filter.exact ? 0 : kernel_packets;
    session.SetKernelCounters(c, static_cast<std::uint32_t>(ifindex));
  }

  // Whether the block after the current one is retired too (the source has
  // not run dry: flushing can wait).
  bool NextBlockReady() const {
    const unsigned next = (current + 1) % geometry.block_count;
    const auto* block = reinterpret_cast<const tpacket_block_desc*>(
        ring + static_cast<std::size_t>(next) * geometry.block_size);
    return (__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
  }

  void DrainBlock(tpacket_block_desc* block, bool ran_dry) {
    if (!session.BeginDelivery()) {
      return;
    }
    auto* bytes = reinterpret_cast<std::uint8_t*>(block);
    std::uint32_t offset = block->hdr.bh1.offset_to_first_pkt;
    for (std::uint32_t i = 0; i < block->hdr.bh1.num_pkts; ++i) {
      const auto* h = reinterpret_cast<const tpacket3_hdr*>(bytes + offset);
      const auto* sll = reinterpret_cast<const sockaddr_ll*>(bytes + offset +
                                                             TPACKET_ALIGN(sizeof(tpacket3_hdr)));
      PacketRecord record;
      record.timestamp_ns = static_cast<std::int64_t>(h->tp_sec) * 1000000000 + h->tp_nsec;
      record.data = std::span(bytes + offset + h->tp_mac, h->tp_snaplen);
      record.original_length = h->tp_len;
      if (vnet.use) {
        // The kernel puts the virtio_net_hdr right before the packet.
        const GsoInfo gso = ReadVnetGso(bytes + offset + h->tp_mac - kVnetHeaderBytes, record.data,
                                        record.original_length);
        record.gso_segs = gso.segs;
        record.gso_size = gso.size;
      }
      record.direction =
          sll->sll_pkttype == PACKET_OUTGOING ? Direction::Outbound : Direction::Inbound;
      record.ifindex = static_cast<std::uint32_t>(ifindex);
      // Straight to the sinks; while they are slow the ring's other blocks
      // hold the backlog and the kernel counts what they cannot.
      if (!session.Deliver(record)) {
        break; // the session stopped (limit, sink failure)
      }
      offset += h->tp_next_offset;
    }
    session.EndDelivery(ran_dry);
  }

  void ReadLoop() {
    auto last_stats = std::chrono::steady_clock::now();
    for (;;) {
      auto* block = reinterpret_cast<tpacket_block_desc*>(ring + static_cast<std::size_t>(current) *
                                                                     geometry.block_size);
      const auto status = __atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
      // In a flood a retired block is always waiting: Stop and the counters
      // are looked at between blocks too, not only when the ring runs dry.
      if (stop_requested.load(std::memory_order_acquire)) {
        return; // the caller drains what the ring still holds
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_stats >= std::chrono::milliseconds(kPollIntervalMs)) {
        PublishCounters();
        last_stats = now;
      }
      if (status & TP_STATUS_USER) {
        DrainBlock(block, !NextBlockReady());
        __atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        current = (current + 1) % geometry.block_count;
        continue;
      }
      pollfd fds[2] = {{socket.get(), POLLIN | POLLERR, 0}, {wake.get(), POLLIN, 0}};
      const int n = poll(fds, 2, kPollIntervalMs);
      if (n < 0 && errno != EINTR) {
        Fail(ErrnoError("poll on " + interface, errno));
        return;
      }
      if (fds[1].revents & POLLIN) {
        return; // Stop: the caller drains what the ring still holds
      }
      if (fds[0].revents & POLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          Fail(ErrnoError("capture on " + interface, err,
                          err == ENETDOWN ? "the interface went down or was removed" : ""));
          return;
        }
      }
    }
  }

  // After the loop ended: hand over, in ring order, every block the kernel
  // already retired.
  void DrainRemaining() {
    for (unsigned i = 0; i < geometry.block_count; ++i) {
      auto* block = reinterpret_cast<tpacket_block_desc*>(ring + static_cast<std::size_t>(current) *
                                                                     geometry.block_size);
      if (!(__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
        return;
      }
      DrainBlock(block, !NextBlockReady());
      __atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      current = (current + 1) % geometry.block_count;
    }
  }
};

AFPacketCapture::AFPacketCapture(std::string interface, Session& session, AFPacketOptions options)
    : impl_(std::make_unique<Impl>(std::move(interface), session, std::move(options))) {}

AFPacketCapture::~AFPacketCapture() {
  Stop();
}

Status AFPacketCapture::Start() {
  return impl_->life.Start(
      [this]() -> Status {
        if (auto opened = impl_->Open(); !opened) {
          return opened;
        }
        impl_->reader = std::thread([impl = impl_.get()] { impl->ReadLoop(); });
        return {};
      },
      [this] { impl_->socket.Reset(); });
}

void AFPacketCapture::Stop() {
  impl_->life.Stop([impl = impl_.get()] {
    impl->stop_requested.store(true, std::memory_order_release);
    const std::uint64_t one = 1;
    (void)!write(impl->wake.get(), &one, sizeof one);
    impl->reader.join();
    // Unbinding first stops new packets; the partly filled block is retired
    // by the kernel within the block timeout, so wait for it once.
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = 0;
    addr.sll_ifindex = impl->ifindex;
    bind(impl->socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    std::this_thread::sleep_for(std::chrono::milliseconds(kBlockTimeoutMs * 2));
    impl->DrainRemaining();
    impl->PublishCounters();
    impl->socket.Reset();
  });
}

bool AFPacketCapture::Failed() const noexcept {
  return impl_->life.Failed();
}

Status AFPacketCapture::error() const {
  return impl_->life.error();
}

std::string AFPacketCapture::description() const {
  // After SPEC 6's fixed start, like bpf's sample path: whether the GSO
  // info (SPEC 10) is there.
  return "listening on " + impl_->interface + " (afpacket), snaplen " +
         std::to_string(impl_->options.snaplen) + ", " +
         (impl_->vnet.use ? std::string("gso info from vnet headers") : impl_->vnet.why_not);
}

const std::string& AFPacketCapture::filter_note() const noexcept {
  return impl_->filter.note;
}

int AFPacketCapture::ifindex() const noexcept {
  return impl_->ifindex;
}

} // namespace wgcap
