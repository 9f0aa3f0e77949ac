// SPDX-License-Identifier: Apache-2.0
#include "support/packet_builder.hpp"

#include <arpa/inet.h>

#include <stdexcept>

namespace wgcap::test {
namespace {

std::vector<std::uint8_t> ParseAddress(int family, const std::string& text) {
  std::vector<std::uint8_t> out(family == 4 ? 4 : 16);
  if (inet_pton(family == 4 ? AF_INET : AF_INET6, text.c_str(), out.data()) != 1) {
    throw std::invalid_argument("bad address " + text);
  }
  return out;
}

void Put16(std::vector<std::uint8_t>& v, std::size_t at, std::uint16_t x) {
  v[at] = static_cast<std::uint8_t>(x >> 8);
  v[at + 1] = static_cast<std::uint8_t>(x);
}

void Put32(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  Put16(v, at, static_cast<std::uint16_t>(x >> 16));
  Put16(v, at + 2, static_cast<std::uint16_t>(x));
}

std::uint32_t Sum(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    acc += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  }
  if (n & 1) {
    acc += static_cast<std::uint32_t>(p[n - 1] << 8);
  }
  return acc;
}

std::uint16_t Fold(std::uint32_t acc) {
  while (acc >> 16) {
    acc = (acc & 0xffff) + (acc >> 16);
  }
  return static_cast<std::uint16_t>(~acc);
}

} // namespace

PacketBuilder PacketBuilder::Ipv4(const std::string& src, const std::string& dst) {
  PacketBuilder b;
  b.family_ = 4;
  b.src_ = ParseAddress(4, src);
  b.dst_ = ParseAddress(4, dst);
  return b;
}

PacketBuilder PacketBuilder::Ipv6(const std::string& src, const std::string& dst) {
  PacketBuilder b;
  b.family_ = 6;
  b.src_ = ParseAddress(6, src);
  b.dst_ = ParseAddress(6, dst);
  return b;
}

PacketBuilder& PacketBuilder::Tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                                  std::uint32_t seq, std::uint32_t ack, std::uint16_t window) {
  l4_ = L4::Tcp;
  sport_ = sport;
  dport_ = dport;
  tcp_flags_ = flags;
  seq_ = seq;
  ack_ = ack;
  window_ = window;
  return *this;
}

PacketBuilder& PacketBuilder::Udp(std::uint16_t sport, std::uint16_t dport) {
  l4_ = L4::Udp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::Icmp(std::uint8_t type, std::uint8_t code, std::uint16_t id,
                                   std::uint16_t seq) {
  l4_ = L4::Icmp;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_id_ = id;
  icmp_seq_ = seq;
  return *this;
}

PacketBuilder& PacketBuilder::Icmp6(std::uint8_t type, std::uint8_t code, std::uint16_t id,
                                    std::uint16_t seq) {
  Icmp(type, code, id, seq);
  l4_ = L4::Icmp6;
  return *this;
}

PacketBuilder& PacketBuilder::Protocol(std::uint8_t proto, std::vector<std::uint8_t> header) {
  l4_ = L4::Other;
  other_proto_ = proto;
  other_header_ = std::move(header);
  return *this;
}

PacketBuilder& PacketBuilder::TcpOptions(std::vector<std::uint8_t> options) {
  while (options.size() % 4) {
    options.push_back(0);
  }
  tcp_options_ = std::move(options);
  return *this;
}

PacketBuilder& PacketBuilder::Payload(std::vector<std::uint8_t> bytes) {
  payload_ = std::move(bytes);
  return *this;
}

PacketBuilder& PacketBuilder::Payload(const std::string& text) {
  payload_.assign(text.begin(), text.end());
  return *this;
}

PacketBuilder& PacketBuilder::PayloadSize(std::size_t n) {
  payload_.assign(n, 'x');
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Options(std::size_t bytes) {
  if (bytes % 4 || bytes > 40) {
    throw std::invalid_argument("IPv4 options must be a multiple of 4, at most 40");
  }
  ipv4_options_ = bytes;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Fragment(std::uint16_t offset_units, bool more_fragments) {
  frag_offset_ = offset_units;
  frag_more_ = more_fragments;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Ihl(std::uint8_t ihl) {
  forced_ihl_ = ihl;
  return *this;
}

PacketBuilder& PacketBuilder::Ttl(std::uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}

PacketBuilder& PacketBuilder::Id(std::uint16_t id) {
  id_ = id;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Extension(std::uint8_t type, std::uint8_t length_units) {
  exts_.push_back(Ext{type, length_units, 0, false});
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Fragment(std::uint16_t offset_units, bool more_fragments) {
  exts_.push_back(Ext{44, 0, offset_units, more_fragments});
  return *this;
}

std::vector<std::uint8_t> PacketBuilder::BuildTransport(std::uint8_t& proto) const {
  std::vector<std::uint8_t> t;
  switch (l4_) {
  case L4::Tcp: {
    proto = 6;
    const std::size_t hl = 20 + tcp_options_.size();
    t.assign(hl, 0);
    Put16(t, 0, sport_);
    Put16(t, 2, dport_);
    Put32(t, 4, seq_);
    Put32(t, 8, ack_);
    t[12] = static_cast<std::uint8_t>((hl / 4) << 4);
    t[13] = tcp_flags_;
    Put16(t, 14, window_);
    std::copy(tcp_options_.begin(), tcp_options_.end(), t.begin() + 20);
    break;
  }
  case L4::Udp:
    proto = 17;
    t.assign(8, 0);
    Put16(t, 0, sport_);
    Put16(t, 2, dport_);
    Put16(t, 4, static_cast<std::uint16_t>(8 + payload_.size()));
    break;
  case L4::Icmp:
  case L4::Icmp6:
    proto = l4_ == L4::Icmp ? 1 : 58;
    t.assign(8, 0);
    t[0] = icmp_type_;
    t[1] = icmp_code_;
    Put16(t, 4, icmp_id_);
    Put16(t, 6, icmp_seq_);
    break;
  case L4::Other:
    proto = other_proto_;
    t = other_header_;
    break;
  case L4::None:
    proto = 59;
    break;
  }
  t.insert(t.end(), payload_.begin(), payload_.end());
  return t;
}

std::vector<std::uint8_t> PacketBuilder::Build() const {
  std::uint8_t proto = 0;
  std::vector<std::uint8_t> transport = BuildTransport(proto);

  // Checksums over the pseudo-header (TCP, UDP, ICMPv6) or the message (ICMP).
  auto pseudo = [&](std::uint32_t len) {
    std::uint32_t acc = Sum(src_.data(), src_.size());
    acc = Sum(dst_.data(), dst_.size(), acc);
    return acc + proto + (len >> 16) + (len & 0xffff);
  };
  const auto tlen = static_cast<std::uint32_t>(transport.size());
  if (l4_ == L4::Tcp && tlen >= 18) {
    Put16(transport, 16, Fold(Sum(transport.data(), tlen, pseudo(tlen))));
  } else if (l4_ == L4::Udp) {
    std::uint16_t c = Fold(Sum(transport.data(), tlen, pseudo(tlen)));
    Put16(transport, 6, c == 0 ? 0xffff : c);
  } else if (l4_ == L4::Icmp) {
    Put16(transport, 2, Fold(Sum(transport.data(), tlen)));
  } else if (l4_ == L4::Icmp6) {
    Put16(transport, 2, Fold(Sum(transport.data(), tlen, pseudo(tlen))));
  }

  std::vector<std::uint8_t> p;
  if (family_ == 4) {
    const std::size_t hl = 20 + ipv4_options_;
    p.assign(hl, 0);
    const int ihl = forced_ihl_ >= 0 ? forced_ihl_ : static_cast<int>(hl / 4);
    p[0] = static_cast<std::uint8_t>(0x40 | (ihl & 0xf));
    Put16(p, 2, static_cast<std::uint16_t>(hl + transport.size()));
    Put16(p, 4, id_);
    Put16(p, 6, static_cast<std::uint16_t>((frag_more_ ? 0x2000 : 0) | (frag_offset_ & 0x1fff)));
    p[8] = ttl_;
    p[9] = proto;
    std::copy(src_.begin(), src_.end(), p.begin() + 12);
    std::copy(dst_.begin(), dst_.end(), p.begin() + 16);
    for (std::size_t i = 20; i < hl; ++i) {
      p[i] = i + 1 == hl ? 0 : 1; // NOPs, then End of Options
    }
    Put16(p, 10, Fold(Sum(p.data(), hl)));
  } else {
    std::vector<std::uint8_t> ext;
    std::uint8_t first = exts_.empty() ? proto : exts_[0].type;
    for (std::size_t i = 0; i < exts_.size(); ++i) {
      const Ext& e = exts_[i];
      const std::uint8_t next = i + 1 < exts_.size() ? exts_[i + 1].type : proto;
      std::size_t len;
      if (e.type == 44) {
        len = 8;
      } else if (e.type == 51) {
        len = (static_cast<std::size_t>(e.length_units) + 2) * 4;
      } else {
        len = (static_cast<std::size_t>(e.length_units) + 1) * 8;
      }
      const std::size_t at = ext.size();
      ext.resize(at + len, 0);
      ext[at] = next;
      if (e.type == 44) {
        Put16(ext, at + 2,
              static_cast<std::uint16_t>((e.frag_offset << 3) | (e.frag_more ? 1 : 0)));
        Put32(ext, at + 4, 0xabcd);
      } else {
        ext[at + 1] = e.length_units;
        if (e.type != 51 && len >= 8) {
          ext[at + 2] = 1; // PadN option covering the rest
          ext[at + 3] = static_cast<std::uint8_t>(len - 4);
        }
      }
    }
    p.assign(40, 0);
    p[0] = 0x60;
    Put16(p, 4, static_cast<std::uint16_t>(ext.size() + transport.size()));
    p[6] = first;
    p[7] = ttl_;
    std::copy(src_.begin(), src_.end(), p.begin() + 8);
    std::copy(dst_.begin(), dst_.end(), p.begin() + 24);
    p.insert(p.end(), ext.begin(), ext.end());
  }
  p.insert(p.end(), transport.begin(), transport.end());
  return p;
}

std::vector<std::uint8_t> WithEthernet(const std::vector<std::uint8_t>& ip,
                                       std::uint16_t ethertype) {
  std::vector<std::uint8_t> f = {0x02,
                                 0,
                                 0,
                                 0,
                                 0,
                                 1,
                                 0x02,
                                 0,
                                 0,
                                 0,
                                 0,
                                 2,
                                 static_cast<std::uint8_t>(ethertype >> 8),
                                 static_cast<std::uint8_t>(ethertype)};
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

} // namespace wgcap::test
