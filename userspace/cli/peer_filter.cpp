// SPDX-License-Identifier: Apache-2.0
#include "cli/peer_filter.hpp"

#include <cerrno>
#include <cstdio>
#include <set>

#include "cli/exit_codes.hpp"
#include "cli/filter_file.hpp"
#include "file/pcap_reader.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::cli {

Result<std::shared_ptr<const ExpressionMatcher>>
ResolvePeerFilter(std::shared_ptr<const ExpressionMatcher> matcher,
                  const wireguard::PeerTable* table, std::string_view how_to_give_peers) {
  if (!HasPeerTerms(matcher->expression())) {
    return matcher;
  }
  FilterExpression expression = matcher->expression();
  const Status resolved =
      ResolvePeerTerms(expression, [&](std::string_view text) -> Result<PeerKey> {
        if (table == nullptr) {
          return Error{"\"peer " + std::string(text) + "\" needs to know the peers' allowed-ips: " +
                           std::string(how_to_give_peers),
                       0, ErrorKind::Usage};
        }
        auto peer = table->Resolve(text);
        if (!peer) {
          return peer.error();
        }
        return peer->public_key;
      });
  if (!resolved) {
    return resolved.error();
  }
  return std::make_shared<const ExpressionMatcher>(std::move(expression));
}

Result<wireguard::PeerTable> ReadWgPeersFile(const std::string& path) {
  auto text = ReadOptionFile("--wg-peers", path, kMaxWgPeersFileBytes);
  if (!text) {
    Error e = text.error();
    e.kind = ErrorKind::Usage; // as for -F: the option names a file to read
    if (e.errnum == EFBIG) {
      e.message = "--wg-peers " + path + ": larger than " +
                  std::to_string(kMaxWgPeersFileBytes >> 20) +
                  " MiB (some 300,000 peers); is it the output of `wg show IFACE dump`?";
    }
    return e;
  }
  auto table = wireguard::ParseWgDump(*text, "");
  if (!table) {
    Error e = table.error();
    e.message = "--wg-peers " + path + ": " + e.message;
    return e;
  }
  if (table->interface.empty()) {
    table->interface = path;
  }
  return table;
}

Result<wireguard::PeerTable> ReadRecordedPeers(const std::string& path) {
  auto input = ByteReader::OpenFile(path);
  if (!input) {
    return input.error();
  }
  auto reader = OpenCaptureFile(std::move(input).value());
  if (!reader) {
    return reader.error();
  }
  wireguard::PeerTable table;
  table.interface = path;
  std::set<PeerKey> seen;
  FileRecord record;
  for (auto more = (*reader)->Next(record); more && *more; more = (*reader)->Next(record)) {
    if (record.peer != nullptr && seen.insert(*record.peer).second) {
      table.peers.push_back(wireguard::Peer{.public_key = *record.peer, .allowed_ips = {}});
    }
  }
  return table;
}

int FailFilter(const Error& error, const std::string& expression) {
  std::fprintf(stderr, "wgcap: filter: %s\n", error.message.c_str());
  if (error.column > 0) {
    std::fprintf(stderr, "  %s\n  %*s^\n", expression.c_str(), error.column - 1, "");
  }
  return ExitCode(KindOf(error));
}

} // namespace wgcap::cli
