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

PeerDirectory::PeerDirectory() : current_(nullptr) {}
PeerDirectory::~PeerDirectory() = default;

const PeerKey* PeerDirectory::Intern(const PeerKey& key) {
  for (const auto& k : keys_) {
    if (*k == key) {
      return k.get();
    }
  }
  keys_.push_back(std::make_unique<PeerKey>(key));
  return keys_.back().get();
}

bool PeerDirectory::Publish(std::uint32_t ifindex, std::vector<PeerRoute> routes) {
  const auto order = [](const PeerRoute& a, const PeerRoute& b) {
    return std::tie(a.prefix.address.family, a.prefix.length, a.prefix.address.bytes, a.key) <
           std::tie(b.prefix.address.family, b.prefix.length, b.prefix.address.bytes, b.key);
  };
  std::sort(routes.begin(), routes.end(), order);
  std::lock_guard lock(mutex_);
  const Snapshot* old = current_.load(std::memory_order_relaxed);
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
                              Intern(r.key));
    }
    std::sort(table.lengths4.rbegin(), table.lengths4.rend());
    std::sort(table.lengths6.rbegin(), table.lengths6.rend());
    table.routes = std::move(routes);
    next->tables.push_back(std::move(table));
  }
  current_.store(next.get(), std::memory_order_release);
  snapshots_.push_back(std::move(next));
  version_.fetch_add(1, std::memory_order_acq_rel);
  return true;
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
  const Snapshot* s = current_.load(std::memory_order_relaxed);
  const PeerTableIndex* t = s != nullptr ? s->Table(ifindex) : nullptr;
  return t != nullptr ? t->routes : std::vector<PeerRoute>{};
}

} // namespace wgcap
