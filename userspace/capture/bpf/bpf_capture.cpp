// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/bpf_capture.hpp"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "base/unique_fd.hpp"
#include "capture/bpf/peer_map_sync.hpp"
#include "capture/bpf/ring_source.hpp"
#include "capture/bpf/tc_attachment.hpp"
#include "capture/lifecycle.hpp"

namespace wgcap {
namespace {

// Not in glibc's <net/if_arp.h> (and <linux/if_arp.h> clashes with <net/if.h>).
constexpr int kArphrdIp6Gre = 823;

AttachMode ToAttachMode(TcAttachKind k) {
  switch (k) {
  case TcAttachKind::Tcx:
    return AttachMode::Tcx;
  case TcAttachKind::Clsact:
    return AttachMode::Clsact;
  case TcAttachKind::Auto:
    break;
  }
  return AttachMode::Auto;
}

} // namespace

Result<std::uint32_t> LinkHeaderLength(const std::string& interface) {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) {
    return ErrnoError("socket", errno);
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFHWADDR, &ifr) != 0) {
    return ErrnoError("interface " + interface, errno);
  }
  switch (ifr.ifr_hwaddr.sa_family) {
  case ARPHRD_ETHER:
  case ARPHRD_LOOPBACK:
    return 14u;
  case ARPHRD_NONE: // WireGuard, TUN
  case ARPHRD_RAWIP:
  case ARPHRD_PPP:
  case ARPHRD_TUNNEL:
  case ARPHRD_TUNNEL6:
  case ARPHRD_SIT:
  case ARPHRD_IPGRE:
  case kArphrdIp6Gre:
    return 0u;
  default:
    return Error{"interface " + interface + ": link type " +
                     std::to_string(ifr.ifr_hwaddr.sa_family) +
                     " is not supported by the bpf backend (Ethernet and L3 devices are)",
                 EOPNOTSUPP};
  }
}

struct BpfCapture::Impl {
  std::string interface;
  Session& session;
  BpfCaptureOptions options;

  int ifindex = 0;
  UniqueFd ioctl_socket; // for the reader's SIOCGIFFLAGS checks
  std::unique_ptr<BpfProgram> program;
  std::unique_ptr<TcAttachment> attachment;
  std::unique_ptr<RingSource> ring;
  std::unique_ptr<PeerMapSync> peers; // when options.peers is set
  std::string backend = "bpf";

  CaptureLifecycle life{"BpfCapture on " + interface};
  std::atomic<bool> counters_lost{false};
  std::atomic<bool> peers_overflowed{false}; // said once

  Impl(std::string i, Session& s, BpfCaptureOptions o)
      : interface(std::move(i)), session(s), options(std::move(o)) {}

  void PublishCounters() {
    std::optional<KernelCounters> c = program->ReadCounters();
    if (!c) {
      // Keep the last counts rather than publish zeros, and say once that
      // they stopped (after -Z, a kernel with unprivileged_bpf_disabled
      // refuses the map read): losses after this are not counted.
      if (!counters_lost.exchange(true)) {
        std::fprintf(stderr, "wgcap: note: the kernel counters can no longer be read; the "
                             "counts below (and ring losses) stop at this point\n");
      }
      return;
    }
    c->filter_fallback = program->filter_exact() ? 0 : c->matched;
    session.SetKernelCounters(*c, static_cast<std::uint32_t>(ifindex));
  }

  // On the reader thread: counters, and whether the interface still exists
  // (a removed interface takes its TC programs with it, silently).
  void Tick() {
    PublishCounters();
    char name[IF_NAMESIZE];
    if (if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
      if (errno == ENXIO) {
        Fail("the interface was removed", ENODEV);
      }
      return;
    }
    // A device set down passes no more packets: stop, as the AF_PACKET
    // backend (ENETDOWN) and tcpdump do, rather than record silence.
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name, std::strlen(name)); // < IF_NAMESIZE, zero-filled
    if (ioctl(ioctl_socket.get(), SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) == 0) {
      Fail("the interface went down", ENETDOWN);
    }
  }

  // On the reader thread, every poll: the kernel's copy of the peers
  // follows the directory within one poll timeout.
  // More allowed-ips than the table holds do not end the capture: the
  // table keeps the last set that fit, and the user hears once (on stderr,
  // as of the counters) that `peer` may miss the rest.
  void SyncPeers() {
    if (!peers || !peers->Due()) {
      return;
    }
    auto synced = peers->Sync();
    if (synced) {
      return;
    }
    if (synced.error().errnum == E2BIG) {
      if (!peers_overflowed.exchange(true)) {
        std::fprintf(stderr,
                     "wgcap: note: capture on %s: %s; the kernel keeps the peers it had, so "
                     "`peer` may miss packets of the allowed-ips beyond them\n",
                     interface.c_str(), synced.error().message.c_str());
      }
      return;
    }
    life.Fail(
        Error{"capture on " + interface + ": " + synced.error().message, synced.error().errnum});
  }

  void Fail(const std::string& what, int errnum) {
    life.Fail(Error{"capture on " + interface + ": " + what, errnum});
  }

  Status Open() {
    // Resolved once, by OpenCapture, when it opened this capture.
    ifindex = options.ifindex != 0 ? options.ifindex
                                   : static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) {
      return ErrnoError("interface " + interface, errno == 0 ? ENODEV : errno);
    }
    ioctl_socket.Reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!ioctl_socket.valid()) {
      return ErrnoError("socket", errno);
    }
    auto link_header = LinkHeaderLength(interface);
    if (!link_header) {
      return link_header.error();
    }
    const CaptureDirection d = options.direction;
    BpfProgramOptions load;
    load.expression = options.expression;
    load.snaplen = options.snaplen;
    load.link_header = *link_header;
    load.ring_bytes = options.ring_bytes;
    load.sample_mode = options.sample_mode;
    load.ingress = d != CaptureDirection::Out;
    load.egress = d != CaptureDirection::In;
    if (options.peers) {
      const auto here = options.peers->Routes(static_cast<std::uint32_t>(ifindex)).size();
      load.peer_routes = static_cast<std::uint32_t>(here + options.peers->Routes(0).size());
    }
    auto loaded = BpfProgram::Load(load);
    if (!loaded) {
      return loaded.error();
    }
    program = std::move(loaded).value();
    if (auto removed = TcAttachment::RemoveLeftovers(ifindex); !removed) {
      return removed.error();
    }
    if (options.peers) {
      // Before attaching: a `peer` term never runs on an empty table.
      peers = std::make_unique<PeerMapSync>(program->peers_fd(),
                                            static_cast<std::uint32_t>(ifindex), options.peers);
      if (auto synced = peers->Sync(); !synced) {
        return synced;
      }
    }
    ring = std::make_unique<RingSource>(
        program->ring_fd(), session, [this] { Tick(); }, [this] { SyncPeers(); });
    // The ring is drained before the programs run, so nothing waits unread.
    if (auto started_ring = ring->Start(); !started_ring) {
      return started_ring;
    }
    auto attached = TcAttachment::Attach(ifindex, program->ingress_fd(), program->egress_fd(),
                                         ToAttachMode(options.attach));
    if (!attached) {
      ring->StopThread();
      return attached.error();
    }
    attachment = std::move(attached).value();
    backend = std::string("bpf/") + attachment->kind();
    return {};
  }
};

BpfCapture::BpfCapture(std::string interface, Session& session, BpfCaptureOptions options)
    : impl_(std::make_unique<Impl>(std::move(interface), session, std::move(options))) {}

BpfCapture::~BpfCapture() {
  Stop();
}

Status BpfCapture::Start() {
  return impl_->life.Start([this] { return impl_->Open(); },
                           [this] {
                             impl_->ring.reset();
                             impl_->program.reset();
                           });
}

void BpfCapture::Stop() {
  impl_->life.Stop([this] {
    // Detach first: after it no new sample arrives, so draining the ring
    // once more hands over every packet the kernel matched.
    impl_->ring->StopThread();
    impl_->attachment->Detach();
    impl_->ring->Drain();
    impl_->PublishCounters();
  });
}

bool BpfCapture::Failed() const noexcept {
  return impl_->life.Failed();
}

Status BpfCapture::error() const {
  return impl_->life.error();
}

std::string BpfCapture::backend_name() const {
  return impl_->backend;
}

const std::string& BpfCapture::filter_note() const noexcept {
  static const std::string none;
  return impl_->program ? impl_->program->filter_note() : none;
}

const char* BpfCapture::sample_mode_name() const noexcept {
  return impl_->program ? impl_->program->sample_mode_name() : "";
}

std::string BpfCapture::description() const {
  return "listening on " + impl_->interface + " (" + backend_name() + "), snaplen " +
         std::to_string(impl_->options.snaplen) + ", samples by ringbuf " + sample_mode_name();
}

int BpfCapture::ifindex() const noexcept {
  return impl_->ifindex;
}

} // namespace wgcap
