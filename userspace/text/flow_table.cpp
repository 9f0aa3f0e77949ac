// SPDX-License-Identifier: Apache-2.0
#include "text/flow_table.hpp"

#include <cstring>
#include <random>

namespace wgcap::text {
namespace {

std::size_t BucketCount(std::size_t capacity) {
  std::size_t n = 16;
  while (n < capacity * 2) {
    n *= 2;
  }
  return n;
}

bool Less(const std::uint8_t* a, std::uint16_t pa, const std::uint8_t* b, std::uint16_t pb,
          std::size_t n) {
  const int c = std::memcmp(a, b, n);
  return c < 0 || (c == 0 && pa < pb);
}

} // namespace

FlowTable::FlowTable(std::size_t capacity)
    : entries_(capacity == 0 ? 1 : capacity), buckets_(BucketCount(entries_.size()), -1),
      seed_(std::random_device{}()) {}

std::uint32_t FlowTable::Bucket(const Key& key) const noexcept {
  // FNV-1a over the key, started from the table's seed.
  std::uint64_t h = 0xcbf29ce484222325ull ^ seed_;
  auto mix = [&h](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h = (h ^ p[i]) * 0x100000001b3ull;
    }
  };
  mix(&key.family, 1);
  mix(key.a.data(), key.a.size());
  mix(key.b.data(), key.b.size());
  const std::uint8_t ports[4] = {
      static_cast<std::uint8_t>(key.port_a >> 8), static_cast<std::uint8_t>(key.port_a),
      static_cast<std::uint8_t>(key.port_b >> 8), static_cast<std::uint8_t>(key.port_b)};
  mix(ports, sizeof ports);
  return static_cast<std::uint32_t>((h ^ (h >> 32)) & (buckets_.size() - 1));
}

void FlowTable::Unlink(std::int32_t i) noexcept {
  Entry& e = entries_[i];
  (e.newer >= 0 ? entries_[e.newer].older : head_) = e.older;
  (e.older >= 0 ? entries_[e.older].newer : tail_) = e.newer;
  e.newer = e.older = -1;
}

void FlowTable::PushFront(std::int32_t i) noexcept {
  Entry& e = entries_[i];
  e.newer = -1;
  e.older = head_;
  if (head_ >= 0) {
    entries_[head_].newer = i;
  }
  head_ = i;
  if (tail_ < 0) {
    tail_ = i;
  }
}

void FlowTable::RemoveFromBucket(std::int32_t i) noexcept {
  std::int32_t* link = &buckets_[entries_[i].bucket];
  while (*link != i) {
    link = &entries_[*link].bucket_next;
  }
  *link = entries_[i].bucket_next;
  entries_[i].bucket_next = -1;
}

FlowTable::Flow& FlowTable::Find(std::uint8_t family, Endpoint src, Endpoint dst, int* direction) {
  const std::size_t n = family == 4 ? 4 : 16;
  const bool forward = !Less(dst.address, dst.port, src.address, src.port, n);
  const Endpoint& a = forward ? src : dst;
  const Endpoint& b = forward ? dst : src;
  Key key;
  key.family = family;
  std::memcpy(key.a.data(), a.address, n);
  std::memcpy(key.b.data(), b.address, n);
  key.port_a = a.port;
  key.port_b = b.port;
  *direction = forward ? 0 : 1;

  const std::uint32_t bucket = Bucket(key);
  for (std::int32_t i = buckets_[bucket]; i >= 0; i = entries_[i].bucket_next) {
    if (entries_[i].key == key) {
      if (i != head_) {
        Unlink(i);
        PushFront(i);
      }
      return entries_[i].flow;
    }
  }

  std::int32_t i;
  if (used_ < entries_.size()) {
    i = static_cast<std::int32_t>(used_++);
  } else {
    i = tail_; // the least recently used flow makes room
    Unlink(i);
    RemoveFromBucket(i);
  }
  Entry& e = entries_[i];
  e.key = key;
  e.flow = Flow{};
  e.bucket = bucket;
  e.bucket_next = buckets_[bucket];
  buckets_[bucket] = i;
  PushFront(i);
  return e.flow;
}

} // namespace wgcap::text
