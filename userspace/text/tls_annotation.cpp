// SPDX-License-Identifier: Apache-2.0
// TLS records at the start of a TCP segment: ClientHello (with the SNI),
// ServerHello, and plaintext alerts (RFC 8446, RFC 5246). The record and
// handshake lengths are checked against the captured bytes; a ClientHello
// whose extensions run past them, so the SNI may be missing only because it
// was not captured (or lies in the next segment), ends in " [|tls]".
#include <iterator>

#include "text/packet_text.hpp"
#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

constexpr std::uint8_t kAlert = 21, kHandshake = 22;
constexpr std::uint8_t kClientHello = 1, kServerHello = 2;
constexpr std::size_t kRecordHeader = 5, kHandshakeHeader = 4;
constexpr std::uint16_t kServerNameExtension = 0;

const char* AlertName(std::uint8_t d) {
  switch (d) {
  case 0:
    return "close_notify";
  case 10:
    return "unexpected_message";
  case 20:
    return "bad_record_mac";
  case 21:
    return "decryption_failed";
  case 22:
    return "record_overflow";
  case 30:
    return "decompression_failure";
  case 40:
    return "handshake_failure";
  case 41:
    return "no_certificate";
  case 42:
    return "bad_certificate";
  case 43:
    return "unsupported_certificate";
  case 44:
    return "certificate_revoked";
  case 45:
    return "certificate_expired";
  case 46:
    return "certificate_unknown";
  case 47:
    return "illegal_parameter";
  case 48:
    return "unknown_ca";
  case 49:
    return "access_denied";
  case 50:
    return "decode_error";
  case 51:
    return "decrypt_error";
  case 60:
    return "export_restriction";
  case 70:
    return "protocol_version";
  case 71:
    return "insufficient_security";
  case 80:
    return "internal_error";
  case 86:
    return "inappropriate_fallback";
  case 90:
    return "user_canceled";
  case 100:
    return "no_renegotiation";
  case 109:
    return "missing_extension";
  case 110:
    return "unsupported_extension";
  case 111:
    return "certificate_unobtainable";
  case 112:
    return "unrecognized_name";
  case 113:
    return "bad_certificate_status_response";
  case 114:
    return "bad_certificate_hash_value";
  case 115:
    return "unknown_psk_identity";
  case 116:
    return "certificate_required";
  case 120:
    return "no_application_protocol";
  default:
    return nullptr;
  }
}

void AppendAlert(std::string& line, Bytes record) {
  line += ": TLS Alert";
  if (record.U16(3) != 2) {
    line += " (encrypted)"; // a protected alert is longer than level + description
    return;
  }
  if (!record.Has(kRecordHeader, 2)) {
    line += " [|tls]";
    return;
  }
  const std::uint8_t level = record.U8(5);
  const std::uint8_t description = record.U8(6);
  if (level == 1 || level == 2) {
    line += level == 1 ? " warning" : " fatal";
  } else {
    Appendf(line, " level %u", level);
  }
  if (const char* name = AlertName(description)) {
    line += ' ';
    line += name;
  } else {
    Appendf(line, " description %u", description);
  }
}

enum class Sni { Found, Absent, NotCaptured };

// Looks for server_name in a ClientHello body (after the handshake header).
Sni FindSni(Bytes hello, Bytes* name) {
  std::size_t i = 2 + 32; // client_version, random
  if (!hello.Has(i, 1)) {
    return Sni::NotCaptured;
  }
  i += 1u + hello.U8(i); // session_id
  if (!hello.Has(i, 2)) {
    return Sni::NotCaptured;
  }
  i += 2u + hello.U16(i); // cipher_suites
  if (!hello.Has(i, 1)) {
    return Sni::NotCaptured;
  }
  i += 1u + hello.U8(i); // compression_methods
  if (!hello.Has(i, 2)) {
    return hello.size() == i ? Sni::Absent : Sni::NotCaptured; // no extensions at all
  }
  const std::size_t end = i + 2u + hello.U16(i);
  for (i += 2; i + 4 <= end; i += 4u + hello.U16(i + 2)) {
    if (!hello.Has(i, 4)) {
      return Sni::NotCaptured;
    }
    if (hello.U16(i) != kServerNameExtension) {
      continue;
    }
    // server_name_list: length(2), then name_type(1) length(2) name.
    const Bytes ext = hello.Sub(i + 4, hello.U16(i + 2));
    if (!ext.Has(2, 3)) {
      return Sni::NotCaptured;
    }
    const std::uint16_t len = ext.U16(3);
    if (ext.U8(2) != 0 || !ext.Has(5, len)) {
      return ext.U8(2) != 0 ? Sni::Absent : Sni::NotCaptured;
    }
    *name = ext.Sub(5, len);
    return Sni::Found;
  }
  return end > hello.size() ? Sni::NotCaptured : Sni::Absent;
}

void AppendHandshake(std::string& line, Bytes record) {
  const std::uint8_t type = record.U8(kRecordHeader);
  if (type == kServerHello) {
    line += ": TLS ServerHello";
    return;
  }
  line += ": TLS ClientHello";
  // The body as far as both the handshake length and the capture allow.
  const std::uint32_t declared = static_cast<std::uint32_t>(record.U8(6)) << 16 | record.U16(7);
  const Bytes body = record.Sub(kRecordHeader + kHandshakeHeader, declared);
  Bytes name;
  switch (FindSni(body, &name)) {
  case Sni::Found:
    line += " SNI=";
    AppendEscaped(line, name);
    break;
  case Sni::Absent:
    break;
  case Sni::NotCaptured:
    line += " [|tls]";
    break;
  }
}

} // namespace

bool AppendTlsAnnotation(std::string& line, Bytes payload) {
  // Record header: type, legacy version 3.x (SSL 3.0 to TLS 1.3), length.
  if (!payload.Has(0, kRecordHeader) || payload.U8(1) != 3 || payload.U8(2) > 4) {
    return false;
  }
  const std::uint8_t type = payload.U8(0);
  if (type == kAlert) {
    AppendAlert(line, payload);
    return true;
  }
  if (type != kHandshake || !payload.Has(kRecordHeader, 1)) {
    return false;
  }
  const std::uint8_t handshake = payload.U8(kRecordHeader);
  if (handshake != kClientHello && handshake != kServerHello) {
    return false;
  }
  AppendHandshake(line, payload);
  return true;
}

} // namespace wgcap::text
