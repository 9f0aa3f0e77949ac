// SPDX-License-Identifier: Apache-2.0
// The TCP flows whose first sequence numbers `-v` needs for relative seq and
// ack. Fixed capacity, all memory taken at construction: a long capture with
// many flows (or a flood of forged ones) evicts the least recently used flow
// instead of growing, and a packet never allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wgcap::text {

class FlowTable {
public:
  static constexpr std::size_t kDefaultCapacity = 4096;

  // What is known of one direction of a flow.
  struct Side {
    bool seen = false;
    std::uint32_t first_seq = 0;
  };
  struct Flow {
    std::array<Side, 2> side{};
  };
  struct Endpoint {
    const std::uint8_t* address; // 4 (family 4) or 16 bytes
    std::uint16_t port;
  };

  explicit FlowTable(std::size_t capacity = kDefaultCapacity);

  // The flow between `src` and `dst`, found or created (evicting the least
  // recently used flow when full), and made the most recently used.
  // `*direction` is set to the index of the src -> dst side in Flow::side.
  Flow& Find(std::uint8_t family, Endpoint src, Endpoint dst, int* direction);

  std::size_t size() const noexcept { return used_; }
  std::size_t capacity() const noexcept { return entries_.size(); }

private:
  // Endpoints in a canonical order, so both directions find one entry.
  struct Key {
    std::uint8_t family = 0;
    std::array<std::uint8_t, 16> a{}, b{};
    std::uint16_t port_a = 0, port_b = 0;
    bool operator==(const Key&) const = default;
  };
  struct Entry {
    Key key;
    Flow flow;
    std::uint32_t bucket = 0;
    std::int32_t bucket_next = -1; // chain of entries in the same bucket
    std::int32_t newer = -1;       // LRU list, most recent at head_
    std::int32_t older = -1;
  };

  std::uint32_t Bucket(const Key& key) const noexcept;
  void Unlink(std::int32_t index) noexcept;    // from the LRU list
  void PushFront(std::int32_t index) noexcept; // as most recently used
  void RemoveFromBucket(std::int32_t index) noexcept;

  std::vector<Entry> entries_;
  std::vector<std::int32_t> buckets_; // power of two, heads of chains
  std::int32_t head_ = -1;            // most recently used
  std::int32_t tail_ = -1;            // least recently used
  std::size_t used_ = 0;
  std::uint64_t seed_ = 0; // per table, so forged flows cannot aim at one chain
};

} // namespace wgcap::text
