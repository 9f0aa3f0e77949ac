// SPDX-License-Identifier: Apache-2.0
// A read-only window on captured packet bytes whose every read is checked:
// the text output parses bytes from the network, so an offset or length
// taken from a packet must never reach past what was captured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace wgcap::text {

class Bytes {
public:
  Bytes() = default;
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  explicit Bytes(std::span<const std::uint8_t> s) : data_(s.data()), size_(s.size()) {}

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const std::uint8_t* data() const noexcept { return data_; }

  // True when [offset, offset + n) lies inside; immune to overflow.
  bool Has(std::size_t offset, std::size_t n) const noexcept {
    return offset <= size_ && n <= size_ - offset;
  }
  // Reads outside the window give 0; callers check Has first where a 0
  // would be misleading.
  std::uint8_t U8(std::size_t offset) const noexcept { return offset < size_ ? data_[offset] : 0; }
  std::uint16_t U16(std::size_t offset) const noexcept {
    return Has(offset, 2) ? static_cast<std::uint16_t>(data_[offset] << 8 | data_[offset + 1]) : 0;
  }
  std::uint32_t U32(std::size_t offset) const noexcept {
    return Has(offset, 4) ? static_cast<std::uint32_t>(U16(offset)) << 16 | U16(offset + 2) : 0;
  }
  // [offset, offset + n) clamped to the window.
  Bytes Sub(std::size_t offset, std::size_t n = SIZE_MAX) const noexcept {
    if (offset >= size_) {
      return {};
    }
    const std::size_t left = size_ - offset;
    return Bytes(data_ + offset, n < left ? n : left);
  }

private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

} // namespace wgcap::text
