// SPDX-License-Identifier: Apache-2.0
// The WireGuard peer parsers on arbitrary bytes: the first byte picks one
// (UAPI reply, `wg show dump` text, generic netlink device dump, family
// reply), the rest is its input. A table that parses holds only prefixes
// with clear host bits and a length within their family, and every error
// says something.
#include <algorithm>

#include "fuzz_check.hpp"
#include "wireguard/peer_sources.hpp"

namespace {

using wgcap::fuzz::Fail;

void CheckTable(const wgcap::Result<wgcap::wireguard::PeerTable>& table) {
  if (!table.ok()) {
    if (table.error().message.empty()) {
      Fail("an error without a message");
    }
    return;
  }
  for (const auto& peer : table->peers) {
    for (const auto& prefix : peer.allowed_ips) {
      const unsigned width = prefix.address.family == 4 ? 32 : 128;
      if ((prefix.address.family != 4 && prefix.address.family != 6) || prefix.length > width) {
        Fail("a prefix out of its family: " + prefix.ToString());
      }
      if (!prefix.Contains(prefix.address.family, prefix.address.bytes.data())) {
        Fail("a prefix with host bits set: " + prefix.ToString());
      }
    }
    // Every peer resolves from its own full key and finds itself.
    auto self = table->Resolve(peer.KeyText());
    if (!self.ok() && self.error().message.find("ambiguous") == std::string::npos &&
        std::count(table->peers.begin(), table->peers.end(), peer) == 1) {
      Fail("a peer's own key does not resolve: " + self.error().message);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<std::uint8_t> bytes(data + 1, data + size);
  switch (data[0] % 4) {
  case 0:
    CheckTable(wgcap::wireguard::ParseUapiReply(text, "wg0"));
    break;
  case 1:
    CheckTable(wgcap::wireguard::ParseWgDump(text, "wg0"));
    break;
  case 2:
    CheckTable(wgcap::wireguard::ParseDeviceDump({bytes}, 0x1f, "wg0"));
    break;
  default:
    if (auto id = wgcap::wireguard::ParseFamilyReply(bytes);
        !id.ok() && id.error().message.empty()) {
      Fail("an error without a message");
    }
  }
  return 0;
}
