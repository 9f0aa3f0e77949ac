// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cstring>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "wgcap/matcher.hpp"

namespace wgcap {
namespace {

// An address cut to a prefix length: what the hash tables are keyed by.
struct MaskedKey {
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t family = 0;
  std::uint8_t length = 0;
  friend bool operator==(const MaskedKey&, const MaskedKey&) = default;
};

// Two multiplications over the address's two words, not a byte loop: the
// Session looks up every packet, once per prefix length in use.
struct MaskedKeyHash {
  std::size_t operator()(const MaskedKey& k) const noexcept {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, k.bytes.data(), sizeof a);
    std::memcpy(&b, k.bytes.data() + sizeof a, sizeof b);
    std::uint64_t h = (a ^ (std::uint64_t{k.family} << 56 | std::uint64_t{k.length} << 48)) *
                      0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 29) ^ b) * 0xbf58476d1ce4e5b9ull;
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
};

MaskedKey Mask(std::uint8_t family, const std::uint8_t* address, std::uint8_t length) noexcept {
  MaskedKey key;
  key.family = family;
  key.length = length;
  const std::size_t full = length / 8;
  std::memcpy(key.bytes.data(), address, full);
  if (length % 8 != 0) {
    key.bytes[full] = static_cast<std::uint8_t>(address[full] & (0xff00u >> (length % 8)));
  }
  return key;
}

} // namespace

// The routes of one interface, indexed: one hash table of masked addresses
// over all prefix lengths, probed from the longest length in use down (a
// fleet's allowed-ips use a handful of lengths: /32, /128, a few subnets).
struct PeerTableIndex {
  std::uint32_t ifindex = 0;
  std::vector<PeerRoute> routes;                // sorted, as published
  std::vector<std::uint8_t> lengths4, lengths6; // distinct, longest first
  std::unordered_map<MaskedKey, const PeerKey*, MaskedKeyHash> by_prefix;

  const PeerKey* Find(std::uint8_t family, const std::uint8_t* address) const noexcept {
    const auto& lengths = family == 4 ? lengths4 : lengths6;
    for (std::uint8_t length : lengths) {
      const auto it = by_prefix.find(Mask(family, address, length));
      if (it != by_prefix.end()) {
        return it->second;
      }
    }
    return nullptr;
  }
};

struct PeerDirectory::Snapshot {
  std::vector<PeerTableIndex> tables;

  const PeerTableIndex* Table(std::uint32_t ifindex) const noexcept {
    for (const auto& t : tables) {
      if (t.ifindex == ifindex) {
        return &t;
      }
    }
    return nullptr;
  }
};

PeerDirectory::PeerDirectory(std::chrono::steady_clock::duration grace)
    : grace_(grace), current_(nullptr) {}
PeerDirectory::~PeerDirectory() = default;

const PeerKey* PeerDirectory::Intern(const PeerKey& key) {
  return &*keys_.insert(key).first;
}

namespace {

// One interface's routes (valid, sorted) indexed for lookups; `intern`
// gives each key its directory-lifetime address.
template <class InternFn>
PeerTableIndex Index(std::uint32_t ifindex, std::vector<PeerRoute> routes, InternFn intern) {
  PeerTableIndex table;
  table.ifindex = ifindex;
  for (const PeerRoute& r : routes) {
    const std::uint8_t family = r.prefix.address.family;
    auto& lengths = family == 4 ? table.lengths4 : table.lengths6;
    if (std::find(lengths.begin(), lengths.end(), r.prefix.length) == lengths.end()) {
      lengths.push_back(r.prefix.length);
    }
    // Two peers cannot own one prefix in WireGuard; the first kept wins.
    table.by_prefix.emplace(Mask(family, r.prefix.address.bytes.data(), r.prefix.length),
                            intern(r.key));
  }
  std::sort(table.lengths4.rbegin(), table.lengths4.rend());
  std::sort(table.lengths6.rbegin(), table.lengths6.rend());
  table.routes = std::move(routes);
  return table;
}

// A route Mask can cut: a prefix of an IPv4 or IPv6 address no longer than
// the address. Anything else would read past the address and the key.
bool RouteIsValid(const PeerRoute& r) noexcept {
  const std::uint8_t family = r.prefix.address.family;
  return (family == 4 && r.prefix.length <= 32) || (family == 6 && r.prefix.length <= 128);
}

} // namespace

bool PeerDirectory::Publish(std::uint32_t ifindex, std::vector<PeerRoute> routes) {
  std::erase_if(routes, [](const PeerRoute& r) { return !RouteIsValid(r); });
  const auto order = [](const PeerRoute& a, const PeerRoute& b) {
    return std::tie(a.prefix.address.family, a.prefix.length, a.prefix.address.bytes, a.key) <
           std::tie(b.prefix.address.family, b.prefix.length, b.prefix.address.bytes, b.key);
  };
  std::sort(routes.begin(), routes.end(), order);
  std::lock_guard lock(mutex_);
  const Snapshot* old = owned_.get();
  const PeerTableIndex* old_table = old != nullptr ? old->Table(ifindex) : nullptr;
  if ((old_table != nullptr ? old_table->routes : std::vector<PeerRoute>{}) == routes) {
    return false;
  }
  auto next = std::make_unique<Snapshot>();
  if (old != nullptr) {
    for (const auto& t : old->tables) {
      if (t.ifindex != ifindex) {
        next->tables.push_back(t);
      }
    }
  }
  if (!routes.empty()) {
    next->tables.push_back(
        Index(ifindex, std::move(routes), [this](const PeerKey& k) { return Intern(k); }));
  }
  current_.store(next.get(), std::memory_order_release);
  const auto now = std::chrono::steady_clock::now();
  if (owned_ != nullptr) {
    retired_.push_back({now, std::move(owned_)});
  }
  owned_ = std::move(next);
  // Readers hold a snapshot only inside one Lookup or Attribute call: a
  // pointer load and a few hash probes, microseconds. A snapshot retired
  // `grace_` (10 s) ago can only still be read by a thread descheduled in
  // the middle of such a call for that long, which a capture thread is not
  // (a stopped process stops the publisher too). That buys lock-free,
  // allocation-free lookups without a per-lookup reference count, and
  // bounds memory to the publishes of one grace period.
  while (!retired_.empty() && now - retired_.front().at >= grace_) {
    retired_.pop_front();
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

std::size_t PeerDirectory::held_snapshots() const {
  std::lock_guard lock(mutex_);
  return retired_.size() + (owned_ != nullptr ? 1 : 0);
}

const PeerKey* PeerDirectory::Lookup(std::uint32_t ifindex, std::uint8_t family,
                                     const std::uint8_t* address) const noexcept {
  const Snapshot* s = current_.load(std::memory_order_acquire);
  if (s == nullptr || (family != 4 && family != 6)) {
    return nullptr;
  }
  if (const PeerTableIndex* t = s->Table(ifindex); t != nullptr) {
    if (const PeerKey* key = t->Find(family, address); key != nullptr) {
      return key;
    }
  }
  if (ifindex != 0) {
    if (const PeerTableIndex* t = s->Table(0); t != nullptr) {
      return t->Find(family, address);
    }
  }
  return nullptr;
}

const PeerKey* PeerDirectory::Attribute(const ParsedPacket& packet, Direction direction,
                                        std::uint32_t ifindex) const noexcept {
  if (packet.family == 0) {
    return nullptr;
  }
  if (direction == Direction::Outbound) {
    return Lookup(ifindex, packet.family, packet.dst.data());
  }
  const PeerKey* key = Lookup(ifindex, packet.family, packet.src.data());
  if (key == nullptr && direction == Direction::Unknown) {
    key = Lookup(ifindex, packet.family, packet.dst.data());
  }
  return key;
}

std::vector<PeerRoute> PeerDirectory::Routes(std::uint32_t ifindex) const {
  std::lock_guard lock(mutex_);
  const Snapshot* s = owned_.get();
  const PeerTableIndex* t = s != nullptr ? s->Table(ifindex) : nullptr;
  return t != nullptr ? t->routes : std::vector<PeerRoute>{};
}

} // namespace wgcap
