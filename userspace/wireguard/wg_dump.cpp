// SPDX-License-Identifier: Apache-2.0
// The text of `wg show IFACE dump` / `wg show all dump`: what `--wg-peers
// FILE` reads when there is no live interface to ask (-r).
#include <map>

#include "wireguard/peer_sources.hpp"

namespace wgcap::wireguard {
namespace {

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return parts;
    }
    text = text.substr(at + 1);
  }
}

Error DumpError(int line, const std::string& what) {
  Error e{"wg dump, line " + std::to_string(line) + ": " + what};
  e.kind = ErrorKind::Usage;
  return e;
}

// A peer line's columns from the public key on: key, psk, endpoint,
// allowed-ips, handshake, rx, tx, keepalive.
Result<Peer> ParsePeer(const std::vector<std::string_view>& columns, std::size_t first, int line) {
  Peer peer;
  auto key = KeyFromBase64(columns[first]);
  if (!key) {
    return DumpError(line, "public key \"" + std::string(columns[first]) + "\" is not base64");
  }
  peer.public_key = *key;
  const std::string_view allowed = columns[first + 3];
  if (allowed == "(none)") {
    return peer;
  }
  for (std::string_view text : Split(allowed, ',')) {
    std::string error;
    auto prefix = IpPrefix::Parse(text, &error);
    if (!prefix || text.find('/') == std::string_view::npos) {
      return DumpError(line, "allowed-ip \"" + std::string(text) + "\": " +
                                 (error.empty() ? std::string("no prefix length") : error));
    }
    peer.allowed_ips.push_back(*prefix);
  }
  return peer;
}

} // namespace

Result<PeerTable> ParseWgDump(std::string_view text, const std::string& interface) {
  // The first line decides: 4 columns, one interface; 5, `all dump`.
  std::map<std::string, PeerTable> tables; // by name, for `all dump`
  std::vector<std::string> order;
  bool all = false;
  int line_number = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_number;
    if (line.empty()) {
      continue;
    }
    const auto columns = Split(line, '\t');
    if (line_number == 1 && columns.size() != 4 && columns.size() != 5) {
      return DumpError(1, "expected the interface line (4 tab-separated columns, or 5 with "
                          "the interface name of `wg show all dump`), found " +
                              std::to_string(columns.size()));
    }
    if (line_number == 1) {
      all = columns.size() == 5;
    }
    const std::size_t first = all ? 1 : 0;
    const std::string name = all ? std::string(columns[0]) : interface;
    if (!tables.count(name)) {
      tables[name].interface = name;
      order.push_back(name);
    }
    if (columns.size() == first + 4) {
      continue; // an interface line: its private key is of no use here
    }
    if (columns.size() != first + 8) {
      return DumpError(line_number, "expected " + std::to_string(first + 8) +
                                        " tab-separated columns, found " +
                                        std::to_string(columns.size()));
    }
    auto peer = ParsePeer(columns, first, line_number);
    if (!peer) {
      return peer.error();
    }
    tables[name].peers.push_back(std::move(*peer));
  }
  if (order.empty()) {
    return DumpError(0, "empty (expected the output of `wg show IFACE dump`)");
  }
  if (!all) {
    return std::move(tables[interface]);
  }
  if (interface.empty() && order.size() == 1) {
    return std::move(tables[order.front()]);
  }
  if (auto found = tables.find(interface); found != tables.end()) {
    return std::move(found->second);
  }
  std::string names;
  for (const std::string& n : order) {
    names += (names.empty() ? "" : ", ") + n;
  }
  Error e{"wg dump: no interface \"" + interface + "\" (it holds " + names + ")"};
  e.kind = ErrorKind::Usage;
  return e;
}

} // namespace wgcap::wireguard
