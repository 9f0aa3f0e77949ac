// SPDX-License-Identifier: Apache-2.0
#include "support/testrun_corpus.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>

namespace wgcap::test {
namespace {

std::string DecodeLine(const std::string& line) {
  if (line.empty() || line.front() != '"') {
    return line;
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < line.size(); ++i) {
    if (line[i] != '\\') {
      out += line[i];
      continue;
    }
    const char c = line[++i];
    switch (c) {
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'r':
      out += '\r';
      break;
    case 'u':
      out += static_cast<char>(std::stoi(line.substr(i + 1, 4), nullptr, 16));
      i += 4;
      break;
    default: // \\ \" \/
      out += c;
    }
  }
  return out;
}

bool IsExtension(std::uint8_t next) {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
}

} // namespace

std::vector<std::string> ReadExpressionList(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '#') {
      continue;
    }
    out.push_back(DecodeLine(line));
  }
  return out;
}

std::vector<Rejected> ReadRejectedList(const std::string& path) {
  std::ifstream in(path);
  std::vector<Rejected> out;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find('\t');
    const auto second = first == std::string::npos ? first : line.find('\t', first + 1);
    if (line.empty() || line.front() == '#' || second == std::string::npos) {
      continue;
    }
    out.push_back(Rejected{line.substr(0, first), DecodeLine(line.substr(second + 1))});
  }
  return out;
}

std::vector<Bytes> ReadCorpusCapture(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  const std::unique_ptr<pcap_t, void (*)(pcap_t*)> in(pcap_open_offline(path.c_str(), errbuf),
                                                      pcap_close);
  std::vector<Bytes> out;
  if (in == nullptr) {
    return out;
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(in.get(), &header, &data) == 1) {
    out.emplace_back(data, data + header->caplen);
  }
  return out;
}

bool Truncated(const Bytes& p) {
  if (p.empty()) {
    return false;
  }
  if (p[0] >> 4 == 4) {
    const std::size_t header = (p[0] & 0x0fu) * 4u;
    return p.size() < 20 || p.size() < header ||
           p.size() < static_cast<std::size_t>(p[2] << 8 | p[3]);
  }
  if (p[0] >> 4 == 6) {
    return p.size() < 40 || p.size() < 40u + static_cast<std::size_t>(p[4] << 8 | p[5]);
  }
  return false;
}

bool ChainsCoincide(const Bytes& p) {
  if (p.empty() || p[0] >> 4 != 6 || p.size() < 40 || !IsExtension(p[6])) {
    return true;
  }
  if (p[6] != 44 || p.size() < 48 || IsExtension(p[40])) {
    return false;
  }
  const bool first_fragment = ((p[42] << 8 | p[43]) & 0xfff8) == 0;
  const bool has_ports = p[40] == 6 || p[40] == 17 || p[40] == 132;
  return !first_fragment || !has_ports;
}

std::string Quote(const std::string& expression) {
  std::string out = "\"";
  for (const char c : expression) {
    out += c == '\n' ? std::string("\\n") : c == '\t' ? std::string("\\t") : std::string(1, c);
  }
  return out + "\"";
}

std::string HexPrefix(const Bytes& packet) {
  std::string out;
  char buf[4];
  for (std::size_t i = 0; i < packet.size() && i < 64; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", packet[i]);
    out += buf;
  }
  return out + (packet.size() > 64 ? "..." : "");
}

} // namespace wgcap::test
