// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/peer_map_sync.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

#include "wgcap_abi.h"

namespace wgcap {

static_assert(sizeof(wgcap_peer_lpm_key) == sizeof(PeerMapSync::KeyBytes));
static_assert(sizeof(wgcap_peer_lpm_value) == sizeof(PeerKey));

PeerMapSync::PeerMapSync(int map_fd, std::uint32_t ifindex,
                         std::shared_ptr<const PeerDirectory> peers)
    : map_fd_(map_fd), ifindex_(ifindex), peers_(std::move(peers)),
      capacity_(WGCAP_PEER_MAP_ENTRIES) {
  // Smaller where maps are charged to RLIMIT_MEMLOCK (BpfProgramOptions).
  bpf_map_info info{};
  std::uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(map_fd_, &info, &length) == 0 && info.max_entries != 0) {
    capacity_ = info.max_entries;
  }
}

PeerMapSync::KeyBytes PeerMapSync::KeyFor(std::uint32_t ifindex, const IpPrefix& prefix) noexcept {
  wgcap_peer_lpm_key key{};
  key.ifindex = ifindex;
  if (prefix.address.family == 4) {
    key.ifindex |= WGCAP_PEER_LPM_IPV4;
    // ::ffff:a.b.c.d, so one trie holds both families apart.
    key.prefixlen = 32 + 96 + prefix.length;
    key.addr[10] = key.addr[11] = 0xff;
    std::memcpy(key.addr + 12, prefix.address.bytes.data(), 4);
  } else {
    key.prefixlen = 32 + prefix.length;
    std::memcpy(key.addr, prefix.address.bytes.data(), 16);
  }
  KeyBytes bytes;
  std::memcpy(bytes.data(), &key, sizeof key);
  return bytes;
}

Result<std::map<PeerMapSync::KeyBytes, PeerKey>> PeerMapSync::Wanted() const {
  std::map<KeyBytes, PeerKey> wanted;
  for (const std::uint32_t ifindex : {ifindex_, 0u}) {
    for (const PeerRoute& r : peers_->Routes(ifindex)) {
      const std::uint8_t family = r.prefix.address.family;
      if ((family != 4 && family != 6) || r.prefix.length > (family == 4 ? 32 : 128)) {
        return Error{"the kernel's peer table: allowed-ip /" + std::to_string(r.prefix.length) +
                         " of family " + std::to_string(family) + " is not a prefix",
                     EINVAL};
      }
      wanted.emplace(KeyFor(ifindex, r.prefix), r.key); // WireGuard: one owner a prefix
    }
    if (ifindex_ == 0) {
      break;
    }
  }
  return wanted;
}

Status PeerMapSync::WriteChanged(const std::map<KeyBytes, PeerKey>& wanted) {
  for (const auto& [key, peer] : wanted) {
    const auto old = written_.find(key);
    if (old != written_.end() && old->second == peer) {
      continue;
    }
    if (bpf_map_update_elem(map_fd_, key.data(), peer.data(), BPF_ANY) != 0) {
      const int err = errno;
      return ErrnoError("writing the kernel's peer table (wgcap_peers)", err,
                        err == ENOSPC || err == E2BIG ? "it is full" : "");
    }
    written_[key] = peer;
  }
  return {};
}

Status PeerMapSync::DeleteGone(const std::map<KeyBytes, PeerKey>& wanted) {
  for (auto it = written_.begin(); it != written_.end();) {
    if (wanted.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (bpf_map_delete_elem(map_fd_, it->first.data()) != 0 && errno != ENOENT) {
      return ErrnoError("deleting from the kernel's peer table (wgcap_peers)", errno);
    }
    it = written_.erase(it);
  }
  return {};
}

Status PeerMapSync::Sync() {
  // Read the version first: a Publish racing with the copy below moves it
  // again, so the next Sync redoes the work rather than miss it.
  const std::uint64_t version = peers_->version();
  auto wanted = Wanted();
  if (!wanted) {
    return wanted.error();
  }
  if (wanted->size() > capacity_) {
    // The map keeps the last set that fit. Marked done for this version, so
    // the reader does not rebuild the set every poll: the next change of the
    // peers tries again.
    version_ = version;
    return Error{"the WireGuard peers have " + std::to_string(wanted->size()) +
                     " allowed-ips; the kernel's peer table holds at most " +
                     std::to_string(capacity_) +
                     (capacity_ < WGCAP_PEER_MAP_ENTRIES
                          ? " (sized at start: this kernel charges it to RLIMIT_MEMLOCK; restart "
                            "the capture)"
                          : " (--mode afpacket filters in userspace)"),
                 E2BIG};
  }
  // Writes before deletes: a prefix that changes hands is never missing.
  // Only when the old and the new set together overflow the map do the
  // gone prefixes go first, and then briefly miss.
  if (auto written = WriteChanged(*wanted); !written) {
    const int err = written.error().errnum;
    if (err != ENOSPC && err != E2BIG) {
      return written;
    }
    if (auto deleted = DeleteGone(*wanted); !deleted) {
      return deleted;
    }
    if (auto again = WriteChanged(*wanted); !again) {
      return again;
    }
  }
  if (auto deleted = DeleteGone(*wanted); !deleted) {
    return deleted;
  }
  version_ = version;
  synced_ = true;
  return {};
}

} // namespace wgcap
