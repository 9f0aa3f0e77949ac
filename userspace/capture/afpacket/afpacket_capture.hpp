// SPDX-License-Identifier: Apache-2.0
// The fallback capture backend: an AF_PACKET socket bound to one interface,
// a TPACKET_V3 memory-mapped ring and a classic BPF socket filter compiled
// from the expression. Packets reach the Session as network-layer bytes
// (SOCK_DGRAM: link headers never appear), with the direction from the
// packet type and the kernel's drop counters in Stats.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "wgcap/capture.hpp"
#include "wgcap/filter_ast.hpp"
#include "wgcap/result.hpp"
#include "wgcap/session.hpp"

namespace wgcap {

struct AFPacketOptions {
  std::uint32_t snaplen = 65535;
  std::uint32_t buffer_bytes = 4u << 20; // ring size (-B)
  // The expression for the socket filter; empty = pass everything.
  FilterExpression expression;
  // In: outgoing packets are ignored (PACKET_IGNORE_OUTGOING where the
  // kernel has it, and the socket filter); Out: only PACKET_OUTGOING passes.
  CaptureDirection direction = CaptureDirection::InOut;
  // Resolved by OpenCapture; 0: Start resolves the name.
  int ifindex = 0;
};

class AFPacketCapture final : public Capture {
public:
  // The session receives packets via Offer. Not started until Start.
  AFPacketCapture(std::string interface, Session& session, AFPacketOptions options = {});
  ~AFPacketCapture() override; // Stop()s
  AFPacketCapture(const AFPacketCapture&) = delete;
  AFPacketCapture& operator=(const AFPacketCapture&) = delete;

  // Opens the socket, attaches the filter, maps the ring and starts the read
  // loop; returns at once. Errors name the interface or the missing
  // capability (CAP_NET_RAW). Starting twice, or after Stop, is an error.
  Status Start() override;
  // Closes the socket and waits for the read loop to exit. Idempotent.
  void Stop() override;

  // Unused: the capture drives its own read loop. Present so the type can
  // stand where the reference package's PacketCapture is expected.
  void Offer(std::span<const std::uint8_t> /*data*/, bool /*outbound*/) noexcept {}

  // The read loop ended on its own: the interface went away or went down.
  bool Failed() const noexcept override;
  Status error() const override;
  std::string backend_name() const override { return "afpacket"; }
  // "listening on wg0 (afpacket), snaplen 65535".
  std::string description() const override;
  // Why the socket filter is not exact ("" when it is).
  const std::string& filter_note() const noexcept override;
  int ifindex() const noexcept override;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace wgcap
