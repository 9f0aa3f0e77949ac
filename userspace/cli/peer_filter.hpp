// SPDX-License-Identifier: Apache-2.0
// `peer KEY` for a capture (SPEC 10): the peers packets are attributed to,
// as PeerDirectory routes, and the expression's peer terms resolved against
// them. -r reads them from --wg-peers FILE (`wg show IFACE dump`) or from
// the file's own records; a live capture asks its interface
// (live_capture.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wgcap/filter_parser.hpp"
#include "wgcap/matcher.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap::cli {

// `matcher` with its `peer` terms resolved against `table` (a key or an
// unambiguous prefix; unknown and ambiguous ones are errors naming the
// peers, with the term's column). `matcher` itself when it has no peer term.
Result<std::shared_ptr<const ExpressionMatcher>>
ResolvePeerFilter(std::shared_ptr<const ExpressionMatcher> matcher,
                  const wireguard::PeerTable& table);

// -r FILE without --wg-peers: `matcher`'s peer terms resolved against what
// the file records (the `peer=KEY` comments wgcap writes into pcapng). A
// whole key stands as given and matches the packets recorded as that peer's
// (maybe none, as tcpdump's `host` on a file); a prefix is looked up among
// the keys the records name, which reads the whole file first: a regular
// file only (standard input and pipes are read once), one that names some.
Result<std::shared_ptr<const ExpressionMatcher>>
ResolveRecordedPeerFilter(std::shared_ptr<const ExpressionMatcher> matcher,
                          const std::string& path);

// --wg-peers FILE: the peers in the text of `wg show IFACE dump` (or of
// `wg show all dump` holding one interface). The table is named after the
// interface, or FILE when the dump does not say.
Result<wireguard::PeerTable> ReadWgPeersFile(const std::string& path);

// Prints a filter error as main does (the message, then the expression with
// a caret under the column it names) and returns its exit code.
int FailFilter(const Error& error, const std::string& expression);

} // namespace wgcap::cli
