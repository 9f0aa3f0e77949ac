// SPDX-License-Identifier: Apache-2.0
// OpenCapture: the one entry point for a live capture, in the library, so a
// program does what `wgcap -i` does without the agent's code.
#include <net/if.h>

#include <cerrno>

#include "capture/afpacket/afpacket_capture.hpp"
#include "capture/bpf/bpf_capture.hpp"
#include "wgcap/capture.hpp"

namespace wgcap {
namespace {

// A load or attach failure the kernel reported carries its errno; one that
// names no errno is still the kernel's refusal, not the caller's.
Error AsKernelError(Error error) {
  if (KindOf(error) == ErrorKind::Unspecified) {
    error.kind = ErrorKind::Kernel;
  }
  return error;
}

Result<std::unique_ptr<Capture>> StartAfPacket(const std::string& interface, Session& session,
                                               CaptureOptions options) {
  AFPacketOptions afpacket;
  afpacket.snaplen = options.snaplen;
  afpacket.buffer_bytes = options.ring_bytes;
  afpacket.expression = std::move(options.expression);
  afpacket.direction = options.direction;
  afpacket.ifindex = options.ifindex;
  auto capture = std::make_unique<AFPacketCapture>(interface, session, std::move(afpacket));
  if (Status started = capture->Start(); !started) {
    return AsKernelError(started.error());
  }
  return std::unique_ptr<Capture>(std::move(capture));
}

} // namespace

Result<int> ResolveInterface(const std::string& interface) {
  const unsigned index = if_nametoindex(interface.c_str());
  if (index == 0) {
    return Error{interface + ": no such interface", ENODEV, ErrorKind::NotFound};
  }
  return static_cast<int>(index);
}

Result<std::unique_ptr<Capture>> OpenCapture(const std::string& interface, Session& session,
                                             CaptureOptions options,
                                             const std::function<void(const Error&)>& on_fallback) {
  if (options.ifindex == 0) {
    auto index = ResolveInterface(interface);
    if (!index) {
      return index.error();
    }
    options.ifindex = *index;
  }
  if (options.mode == CaptureMode::AfPacket) {
    return StartAfPacket(interface, session, std::move(options));
  }
  auto bpf = std::make_unique<BpfCapture>(interface, session, options);
  const Status started = bpf->Start();
  if (started) {
    return std::unique_ptr<Capture>(std::move(bpf));
  }
  // An interface gone since it was looked up is no reason to try another
  // backend on it.
  if (options.mode == CaptureMode::Bpf || started.error().errnum == ENODEV) {
    return AsKernelError(started.error());
  }
  if (on_fallback) {
    on_fallback(started.error());
  }
  return StartAfPacket(interface, session, std::move(options));
}

} // namespace wgcap
