// SPDX-License-Identifier: Apache-2.0
// The wire format between `wgcap --connect` and `wgcap serve` on the Unix
// socket: frames of [type:1][reserved:3][length:4, little-endian][payload].
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wgcap/byte_writer.hpp"
#include "wgcap/result.hpp"

namespace wgcap::serve {

enum class FrameType : std::uint8_t {
  Arguments = 'A', // client → server: the capture's argv, NUL-separated
  Stop = 'S',      // client → server: end the capture (Ctrl-C)
  Output = 'O',    // server → client: capture bytes (pcap, pcapng or text)
  Message = 'E',   // server → client: a line for the client's stderr
  Exit = 'X',      // server → client: the exit code, one byte; the last frame
};

// A request or a message never needs more; output frames are chunked below it.
inline constexpr std::uint32_t kMaxFrame = 1u << 20;

struct Frame {
  FrameType type;
  std::string payload;
};

// Writes one whole frame (looping on partial writes; EPIPE is an error).
Status SendFrame(int fd, FrameType type, std::span<const std::uint8_t> payload);
Status SendFrame(int fd, FrameType type, std::string_view payload);

// Reads one frame; nullopt at a clean end of stream. `timeout_ms` < 0 waits.
Result<std::optional<Frame>> ReadFrame(int fd, int timeout_ms = -1);

std::string JoinArguments(const std::vector<std::string>& args);
std::vector<std::string> SplitArguments(std::string_view payload);

// Capture bytes as Output frames on a socket: buffered, flushed on Flush.
class FrameWriter final : public ByteWriter {
public:
  explicit FrameWriter(int fd) : fd_(fd) {}
  Status Write(std::span<const std::uint8_t> bytes) override;
  Status Flush() override;
  using ByteWriter::Write;
  std::uint64_t bytes_sent() const noexcept { return sent_; }

private:
  int fd_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t sent_ = 0;
  bool failed_ = false;
  Error failure_;
};

} // namespace wgcap::serve
