// SPDX-License-Identifier: Apache-2.0
// The libpcap TESTrun corpus of issue 23 (tests/data/libpcap-testrun): its
// expression lists, its capture, and the rules that decide which verdicts
// wgcap and libpcap must share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wgcap::test {

using Bytes = std::vector<std::uint8_t>;

// One expression a line, '#' lines skipped; a line starting with a quote is
// a JSON string literal (extract.py's encode_line, for newlines and tabs).
std::vector<std::string> ReadExpressionList(const std::string& path);
// rejected.txt: each expression (decoded) with its reason ("link-layer",
// "needs-name-lookup", ...).
struct Rejected {
  std::string reason;
  std::string expression;
};
std::vector<Rejected> ReadRejectedList(const std::string& path);
std::vector<Bytes> ReadCorpusCapture(const std::string& path);

// IPv4 or IPv6 captured shorter than its header or its length field says.
// libpcap rejects the whole packet when a load falls past the captured
// bytes, while SPEC section 1 makes only the primitive that needs the field
// false; that difference belongs to issue 21, so these packets are left out.
bool Truncated(const Bytes& packet);

// Rule (b), the intended difference: wgcap walks the whole IPv6 extension
// chain, libpcap checks the first Next Header, or the one after a leading
// fragment header for protocols (and never for ports). They see the same
// upper-layer protocol and ports exactly when the packet is not IPv6, or
// its chain is empty (Next Header is none of 0, 43, 44, 60, 51), or it is a
// single fragment header followed by a non-extension header where wgcap has
// no ports either: a non-first fragment, or not TCP/UDP/SCTP behind it.
// Verdicts are compared in full on those packets; on the others wgcap may
// only keep more (see libpcap_testrun_test.cpp).
bool ChainsCoincide(const Bytes& packet);

// Quoted, newlines and tabs escaped, for reports.
std::string Quote(const std::string& expression);
std::string HexPrefix(const Bytes& packet);

} // namespace wgcap::test
