// SPDX-License-Identifier: Apache-2.0
#include "cli/peer_filter.hpp"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include "base/peer_key_text.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filter_file.hpp"
#include "file/pcap_reader.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::cli {

namespace {

// `matcher` with each peer term replaced by what `resolve` says of its text.
Result<std::shared_ptr<const ExpressionMatcher>>
Resolved(std::shared_ptr<const ExpressionMatcher> matcher,
         const std::function<Result<PeerKey>(std::string_view)>& resolve) {
  if (!HasPeerTerms(matcher->expression())) {
    return matcher;
  }
  FilterExpression expression = matcher->expression();
  if (const Status resolved = ResolvePeerTerms(expression, resolve); !resolved) {
    return resolved.error();
  }
  return std::make_shared<const ExpressionMatcher>(std::move(expression));
}

// A file that can be read before the capture reads it again: not standard
// input, a pipe, a socket or a device. Anything else goes on to be opened,
// which says why it cannot be (missing, a directory, no permission).
bool ReadableTwice(const std::string& path) {
  if (path == "-") {
    return false;
  }
  std::error_code ec;
  using std::filesystem::file_type;
  switch (std::filesystem::status(path, ec).type()) {
  case file_type::fifo:
  case file_type::socket:
  case file_type::character:
  case file_type::block:
    return false;
  default:
    return true;
  }
}

// The keys a capture file's records name, in the order first seen, as a
// table without allowed-ips named after the file. A damaged record ends the
// scan (the capture itself reports it).
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

} // namespace

Result<std::shared_ptr<const ExpressionMatcher>>
ResolvePeerFilter(std::shared_ptr<const ExpressionMatcher> matcher,
                  const wireguard::PeerTable& table) {
  return Resolved(std::move(matcher), [&](std::string_view text) -> Result<PeerKey> {
    auto peer = table.Resolve(text);
    if (!peer) {
      return peer.error();
    }
    return peer->public_key;
  });
}

Result<std::shared_ptr<const ExpressionMatcher>>
ResolveRecordedPeerFilter(std::shared_ptr<const ExpressionMatcher> matcher,
                          const std::string& path) {
  // The records are read only for a prefix, and before resolving, so that a
  // file that cannot be opened fails as it would without `peer`.
  bool prefix = false;
  FilterExpression probe = matcher->expression();
  (void)ResolvePeerTerms(probe, [&](std::string_view text) -> Result<PeerKey> {
    prefix = prefix || !PeerKeyFromText(text);
    return PeerKey{};
  });
  std::optional<wireguard::PeerTable> recorded;
  if (prefix && ReadableTwice(path)) {
    auto read = ReadRecordedPeers(path);
    if (!read) {
      return read.error();
    }
    recorded = std::move(read).value();
  }
  return Resolved(std::move(matcher), [&](std::string_view text) -> Result<PeerKey> {
    if (auto whole = PeerKeyFromText(text)) {
      return *whole;
    }
    const std::string needs = "\"peer " + std::string(text) +
                              "\": a key prefix is resolved against the peers the file records, "
                              "and ";
    const std::string give = "; give the whole key, or --wg-peers FILE (the output of `wg show "
                             "IFACE dump`)";
    if (!recorded) {
      return Error{needs + (path == "-" ? "standard input" : path) + " is read once" + give, 0,
                   ErrorKind::Usage};
    }
    if (recorded->peers.empty()) {
      return Error{needs + path + " records none (wgcap writes them into pcapng)" + give, 0,
                   ErrorKind::Usage};
    }
    auto peer = recorded->Resolve(text);
    if (!peer) {
      return peer.error();
    }
    return peer->public_key;
  });
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

int FailFilter(const Error& error, const std::string& expression) {
  std::fprintf(stderr, "wgcap: filter: %s\n", error.message.c_str());
  if (error.column > 0) {
    std::fprintf(stderr, "  %s\n  %*s^\n", expression.c_str(), error.column - 1, "");
  }
  return ExitCode(KindOf(error));
}

} // namespace wgcap::cli
