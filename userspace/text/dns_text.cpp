// SPDX-License-Identifier: Apache-2.0
// DNS summaries (SPEC 5): "ID[+] TYPE? NAME. (LEN)" for a query,
// "ID AN/NS/AR TYPE RDATA (LEN)" for an answer, "ID AN/NS/AR RCODE (LEN)"
// for a failure, " EDE=Name" before "(LEN)" when the OPT record has one.
//
// The reader is our own (dns_message.cpp) rather than libresolv's
// ns_initparse/ns_parserr: those refuse a message unless every section is
// complete, so a response cut by the snap length would show nothing, while
// a line should show the question and first answer it did capture.
#include <cstdint>
#include <optional>
#include <string>

#include "text/dns_message.hpp"
#include "text/dns_names.hpp"
#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::uint16_t kEdeOption = 15;
constexpr std::size_t kMaxTxtText = 120; // "short data": a long TXT ends in "..."

// What the summary needs from the sections after the header.
struct Sections {
  std::optional<DnsRecord> question; // the first
  std::optional<DnsRecord> answer;   // the first
  std::optional<DnsRecord> opt;      // the OPT pseudo-record, if any
  bool complete = false;             // every counted record was read
};

Sections ReadSections(Bytes m, const DnsHeader& h) {
  Sections s;
  std::size_t pos = kDnsHeaderSize;
  for (unsigned i = 0; i < h.questions; ++i) {
    const auto q = ReadDnsQuestion(m, pos);
    if (!q) {
      return s;
    }
    if (i == 0) {
      s.question = q;
    }
    pos = q->end;
  }
  const unsigned records = unsigned{h.answers} + h.authority + h.additional;
  for (unsigned i = 0; i < records; ++i) {
    const auto r = ReadDnsRecord(m, pos);
    if (!r) {
      return s;
    }
    if (i == 0 && h.answers > 0) {
      s.answer = r;
    }
    if (i >= unsigned{h.answers} + h.authority && r->type == kDnsTypeOpt && !s.opt) {
      s.opt = r;
    }
    pos = r->end;
  }
  s.complete = true;
  return s;
}

// The first EDE option's info code in the OPT record's data.
std::optional<std::uint16_t> FindEde(Bytes m, const DnsRecord& opt) {
  const Bytes data = m.Sub(opt.rdata, opt.rdlength);
  for (std::size_t i = 0; data.Has(i, 4);) {
    const std::uint16_t code = data.U16(i);
    const std::uint16_t len = data.U16(i + 2);
    if (!data.Has(i + 4, len)) {
      break;
    }
    if (code == kEdeOption && len >= 2) {
      return data.U16(i + 4);
    }
    i += 4u + len;
  }
  return std::nullopt;
}

void AppendTxt(std::string& line, Bytes rdata) {
  const std::size_t start = line.size();
  for (std::size_t i = 0; i < rdata.size();) {
    const std::uint8_t len = rdata.U8(i);
    const Bytes text = rdata.Sub(i + 1, len);
    if (line.size() - start > kMaxTxtText) {
      line += " ...";
      return;
    }
    line += " \"";
    for (std::size_t k = 0; k < text.size(); ++k) {
      const std::uint8_t c = text.U8(k);
      if (c == '"' || c == '\\') {
        line += '\\';
        line += static_cast<char>(c);
      } else if (c >= 0x20 && c <= 0x7e) {
        line += static_cast<char>(c);
      } else {
        Appendf(line, "\\%03u", c);
      }
    }
    line += '"';
    i += 1u + len;
  }
}

// " NAME." from `offset`; on a malformed name the line is left as it was.
bool AppendName(std::string& line, Bytes m, std::size_t offset) {
  const std::size_t mark = line.size();
  line += ' ';
  if (!ReadDnsName(m, offset, &line)) {
    line.resize(mark);
    return false;
  }
  return true;
}

// " TYPE RDATA" with the short data of the common types (tcpdump's layout:
// MX as "NAME. PREF", SRV as "TARGET.:PORT PRIO WEIGHT"). False when the
// data does not hold what its type needs.
bool AppendAnswer(std::string& line, Bytes m, const DnsRecord& r) {
  line += ' ';
  AppendDnsTypeName(line, r.type);
  const Bytes data = m.Sub(r.rdata, r.rdlength);
  switch (r.type) {
  case 1:  // A
  case 28: // AAAA
    if (r.rdlength != (r.type == 1 ? 4 : 16)) {
      return false;
    }
    line += ' ';
    AppendAddress(line, r.type == 1 ? 4 : 6, data.data());
    return true;
  case 2:  // NS
  case 5:  // CNAME
  case 12: // PTR
    return AppendName(line, m, r.rdata);
  case 15: // MX
    if (r.rdlength < 3) {
      return false;
    }
    if (!AppendName(line, m, r.rdata + 2)) {
      return false;
    }
    Appendf(line, " %u", data.U16(0));
    return true;
  case 16: // TXT
    AppendTxt(line, data);
    return true;
  case 33: // SRV
    if (r.rdlength < 7) {
      return false;
    }
    if (!AppendName(line, m, r.rdata + 6)) {
      return false;
    }
    Appendf(line, ":%u %u %u", data.U16(4), data.U16(0), data.U16(2));
    return true;
  default:
    return true; // the type alone
  }
}

constexpr const char* kTruncated = " [|domain]";

} // namespace

void AppendDns(std::string& line, Bytes m, std::uint32_t length) {
  const auto h = ReadDnsHeader(m);
  if (!h) {
    line += kTruncated;
    return;
  }
  const Sections s = ReadSections(m, *h);
  Appendf(line, " %04x", h->id);
  if (!h->response()) {
    if (h->recursion_desired()) {
      line += '+';
    }
    AppendDnsOpcode(line, h->opcode());
    if (h->questions > 0) {
      if (!s.question) {
        line += kTruncated;
        return;
      }
      line += ' ';
      AppendDnsTypeName(line, s.question->type);
      line += "? ";
      ReadDnsName(m, s.question->name, &line);
    }
  } else {
    AppendDnsOpcode(line, h->opcode());
    Appendf(line, " %u/%u/%u", h->answers, h->authority, h->additional);
    // The OPT record's TTL carries the upper 8 bits of a 12-bit RCODE.
    const unsigned rcode = h->rcode() | (s.opt ? (s.opt->ttl >> 24) << 4 : 0u);
    if (rcode != 0) {
      line += ' ';
      AppendDnsRcodeName(line, rcode);
    } else if (h->answers > 0 && (!s.answer || !AppendAnswer(line, m, *s.answer))) {
      line += kTruncated;
      return;
    }
  }
  if (!s.complete) {
    line += kTruncated;
    return;
  }
  if (s.opt) {
    if (const auto ede = FindEde(m, *s.opt)) {
      line += " EDE=";
      AppendDnsEdeName(line, *ede);
    }
  }
  Appendf(line, " (%u)", length);
}

} // namespace wgcap::text
