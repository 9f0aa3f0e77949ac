// SPDX-License-Identifier: Apache-2.0
#include "support/payload_builders.hpp"

namespace wgcap::test {
namespace {

void Put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

void Put24(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  Put16(b, static_cast<std::uint16_t>(v));
}

void Put32(Bytes& b, std::uint32_t v) {
  Put16(b, static_cast<std::uint16_t>(v >> 16));
  Put16(b, static_cast<std::uint16_t>(v));
}

} // namespace

Bytes DnsName(std::string_view dotted) {
  Bytes out;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

Bytes DnsHeader(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                std::uint16_t ns, std::uint16_t ar) {
  Bytes b;
  for (std::uint16_t v : {id, flags, qd, an, ns, ar}) {
    Put16(b, v);
  }
  return b;
}

Bytes DnsQuestion(const Bytes& name, std::uint16_t type, std::uint16_t klass) {
  Bytes b = name;
  Put16(b, type);
  Put16(b, klass);
  return b;
}

Bytes DnsRecord(const Bytes& name, std::uint16_t type, std::uint32_t ttl, const Bytes& rdata,
                std::uint16_t klass) {
  Bytes b = name;
  Put16(b, type);
  Put16(b, klass);
  Put32(b, ttl);
  Put16(b, static_cast<std::uint16_t>(rdata.size()));
  b.insert(b.end(), rdata.begin(), rdata.end());
  return b;
}

Bytes DnsOpt(int ede, std::uint8_t extended_rcode) {
  Bytes options;
  if (ede >= 0) {
    Put16(options, 15);
    Put16(options, 2 + 4);
    Put16(options, static_cast<std::uint16_t>(ede));
    for (char c : std::string_view("why!")) {
      options.push_back(static_cast<std::uint8_t>(c));
    }
  }
  // Owner the root, class = UDP size, TTL = extended RCODE, version, flags.
  return DnsRecord({0}, 41, static_cast<std::uint32_t>(extended_rcode) << 24, options, 1232);
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Bytes TlsClientHello(std::string_view sni) {
  Bytes extensions;
  Put16(extensions, 0x002b); // supported_versions: TLS 1.3, 1.2
  Put16(extensions, 5);
  extensions.insert(extensions.end(), {4, 3, 4, 3, 3});
  if (!sni.empty()) {
    Put16(extensions, 0x0000);
    Put16(extensions, static_cast<std::uint16_t>(sni.size() + 5));
    Put16(extensions, static_cast<std::uint16_t>(sni.size() + 3));
    extensions.push_back(0); // host_name
    Put16(extensions, static_cast<std::uint16_t>(sni.size()));
    extensions.insert(extensions.end(), sni.begin(), sni.end());
  }
  Put16(extensions, 0x000a); // supported_groups: x25519
  Put16(extensions, 4);
  extensions.insert(extensions.end(), {0, 2, 0, 0x1d});

  Bytes body = {3, 3};
  body.insert(body.end(), 32, 0xaa); // random
  body.push_back(32);                // session id
  body.insert(body.end(), 32, 0xbb);
  Put16(body, 4); // cipher suites
  body.insert(body.end(), {0x13, 0x01, 0x13, 0x02});
  body.insert(body.end(), {1, 0}); // compression: null
  Put16(body, static_cast<std::uint16_t>(extensions.size()));
  body.insert(body.end(), extensions.begin(), extensions.end());

  Bytes record = {22, 3, 1};
  Put16(record, static_cast<std::uint16_t>(body.size() + 4));
  record.push_back(1);
  Put24(record, static_cast<std::uint32_t>(body.size()));
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

Bytes TlsServerHello() {
  Bytes body = {3, 3};
  body.insert(body.end(), 32, 0xcc);
  body.push_back(0);
  body.insert(body.end(), {0x13, 0x01, 0});
  Put16(body, 6);
  body.insert(body.end(), {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04});
  Bytes record = {22, 3, 3};
  Put16(record, static_cast<std::uint16_t>(body.size() + 4));
  record.push_back(2);
  Put24(record, static_cast<std::uint32_t>(body.size()));
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

Bytes TlsAlert(std::uint8_t level, std::uint8_t description) {
  return {21, 3, 3, 0, 2, level, description};
}

} // namespace wgcap::test
