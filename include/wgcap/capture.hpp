// SPDX-License-Identifier: Apache-2.0
// A live capture: OpenCapture() resolves the interface once, picks a backend
// (the TC eBPF program or an AF_PACKET socket) from CaptureOptions and feeds
// the Session it is given. Nothing here reads the environment: every choice
// is an option.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "wgcap/filter_ast.hpp"
#include "wgcap/matcher.hpp"
#include "wgcap/result.hpp"
#include "wgcap/session.hpp"

namespace wgcap {

// Which backend: bpf where it can run, else AF_PACKET (Auto); or only one.
enum class CaptureMode { Auto, Bpf, AfPacket };

// How the bpf backend attaches: tcx links where the kernel has them (6.6+),
// else clsact filters (Auto); or forced.
enum class TcAttachKind { Auto, Tcx, Clsact };

// How the bpf program copies a sample into the ring (bpf/DESIGN.md).
enum class SampleMode {
  Auto,    // Reserve where the verifier accepts it, else Output
  Reserve, // packet bytes loaded straight into a ring reservation (6.8+)
  Output,  // per-CPU scratch copy + bpf_ringbuf_output
};

// Which packets a live capture takes (tcpdump's -Q), selected in the kernel:
// the bpf backend attaches only that TC hook, the afpacket backend's socket
// filter rejects the other packet type.
enum class CaptureDirection { InOut, In, Out };

struct CaptureOptions {
  CaptureMode mode = CaptureMode::Auto;
  TcAttachKind attach = TcAttachKind::Auto;
  SampleMode sample_mode = SampleMode::Auto;
  std::uint32_t snaplen = 65535;
  std::uint32_t ring_bytes = 4u << 20; // the kernel ring (bpf) or packet ring (afpacket), -B
  CaptureDirection direction = CaptureDirection::InOut;
  // For the in-kernel filter; empty passes everything (the Session's Matcher
  // decides what the kernel cannot).
  FilterExpression expression;
  // The interface's index when the caller resolved it already (wgcap does,
  // to name it in the pcapng header); 0: OpenCapture resolves it.
  int ifindex = 0;
  // The WireGuard peers of the captured interfaces (SPEC 10), or null. The
  // bpf backend mirrors this interface's routes into the kernel's LPM trie
  // (for `peer` in the generated filter) and again whenever the directory's
  // version moves, within a second.
  std::shared_ptr<const PeerDirectory> peers;
};

class Capture {
public:
  virtual ~Capture() = default;
  // Attaches and starts delivering packets; returns at once. Starting
  // twice, or after Stop, is an error. OpenCapture returns a started capture.
  virtual Status Start() = 0;
  // Detaches and hands over everything already captured. Idempotent.
  virtual void Stop() = 0;
  // The capture ended on its own (the interface went away).
  virtual bool Failed() const noexcept = 0;
  virtual Status error() const = 0;
  // "bpf/tcx", "bpf/tc" or "afpacket".
  virtual std::string backend_name() const = 0;
  // The backend line (SPEC 6): "listening on wg0 (bpf/tcx), snaplen 65535,
  // samples by ringbuf reserve" or "listening on wg0 (afpacket), snaplen 96".
  virtual std::string description() const = 0;
  // Why the in-kernel filter is not exact ("" when it is).
  virtual const std::string& filter_note() const noexcept = 0;
  // The interface's index, resolved once when the capture opened.
  virtual int ifindex() const noexcept = 0;
};

// The interface's index; a NotFound error naming it when there is none.
Result<int> ResolveInterface(const std::string& interface);

// Opens and starts a capture on `interface` feeding `session` (which must
// outlive it). Under CaptureMode::Auto, when the bpf backend cannot run
// here, `on_fallback` (if set) hears why and AF_PACKET is tried; a missing
// interface is never a reason to fall back.
Result<std::unique_ptr<Capture>>
OpenCapture(const std::string& interface, Session& session, CaptureOptions options,
            const std::function<void(const Error&)>& on_fallback = nullptr);

} // namespace wgcap
