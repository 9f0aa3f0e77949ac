// SPDX-License-Identifier: Apache-2.0
#include "support/libpcap_reference.hpp"

#include <arpa/inet.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "support/subprocess.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/packet_parse.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap::test {

Bytes Random::RandomBytes(std::size_t n) {
  Bytes out(n);
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(Uniform(0, 255));
  }
  return out;
}

std::string MaskedPrefix(const std::string& address, int length) {
  const bool v4 = address.find(':') == std::string::npos;
  std::array<std::uint8_t, 16> bytes{};
  inet_pton(v4 ? AF_INET : AF_INET6, address.c_str(), bytes.data());
  for (int bit = length; bit < (v4 ? 32 : 128); ++bit) {
    bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text.data(), text.size());
  return std::string(text.data()) + "/" + std::to_string(length);
}

std::string Hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  char buf[3];
  for (const auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

std::string Summary(std::span<const std::uint8_t> bytes) {
  const ParsedPacket p = ParsePacket(bytes);
  std::string out = "IPv" + std::to_string(p.family) + " proto " + std::to_string(p.protocol) +
                    " len " + std::to_string(p.original_length);
  if (p.has_ports) {
    out += " ports " + std::to_string(p.src_port) + ">" + std::to_string(p.dst_port);
  }
  if (p.is_fragment) {
    out += " fragment offset " + std::to_string(p.fragment_offset);
  }
  return out;
}

std::vector<std::uint32_t> Lengths(const std::vector<Bytes>& packets) {
  std::vector<std::uint32_t> out;
  for (const auto& p : packets) {
    out.push_back(static_cast<std::uint32_t>(p.size()));
  }
  return out;
}

BpfProgram::BpfProgram(pcap_t* dead, const std::string& expression, bool optimize) {
  ok_ = pcap_compile(dead, &program_, expression.c_str(), optimize ? 1 : 0, PCAP_NETMASK_UNKNOWN) ==
        0;
  if (!ok_) {
    error_ = pcap_geterr(dead);
  }
}

BpfProgram::~BpfProgram() {
  if (ok_) {
    pcap_freecode(&program_);
  }
}

bool BpfProgram::Matches(std::span<const std::uint8_t> packet) const {
  pcap_pkthdr header{};
  header.caplen = header.len = static_cast<bpf_u_int32>(packet.size());
  return pcap_offline_filter(&program_, &header, packet.data()) != 0;
}

Capture ReadCapture(const std::string& path) {
  Capture capture;
  char error[PCAP_ERRBUF_SIZE] = {};
  const PcapHandle p(pcap_open_offline(path.c_str(), error));
  if (!p) {
    ADD_FAILURE() << "pcap_open_offline " << path << ": " << error;
    return capture;
  }
  capture.link_type = pcap_datalink(p.get());
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(p.get(), &header, &data)) == 1) {
    capture.records.push_back(CaptureRecord{header->ts.tv_sec, header->ts.tv_usec, header->caplen,
                                            header->len, Bytes(data, data + header->caplen)});
  }
  EXPECT_EQ(rc, PCAP_ERROR_BREAK) << path << ": " << pcap_geterr(p.get());
  return capture;
}

void WriteInput(const std::string& path, const std::vector<Bytes>& packets) {
  auto file = AtomicFileWriter::Create(path);
  ASSERT_TRUE(file) << file.error().message;
  PcapWriter writer(**file, kDefaultSnaplen);
  std::int64_t timestamp_ns = 1'700'000'000'000'000'000;
  for (const auto& packet : packets) {
    timestamp_ns += 1'000'000 + 1'000 * static_cast<std::int64_t>(packet.size());
    ASSERT_TRUE(writer.WritePacket(timestamp_ns, packet));
  }
  ASSERT_TRUE(writer.Flush());
  ASSERT_TRUE((*file)->Commit());
}

bool HaveTcpdump() {
  try {
    return Run({"tcpdump", "--version"}).exit_code == 0;
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

bool NeedsUnoptimized(const std::vector<Bytes>& packets, const std::string& expression) {
  const PcapHandle dead(pcap_open_dead(DLT_RAW, 65535));
  const LibpcapFilter filter(dead.get(), expression);
  if (filter.rejects_all() || !filter.ok()) { // or the optimizer refuses it (folds a divisor to 0)
    return true;
  }
  for (const auto& packet : packets) {
    if (filter.OptimizerDisagrees(packet)) {
      std::printf("libpcap's optimizer miscompiles \"%s\"; comparing with tcpdump -O\n",
                  expression.c_str());
      return true;
    }
  }
  return false;
}

} // namespace

Capture CompareBinaries(const TempDir& dir, const std::string& input,
                        const std::vector<Bytes>& packets, const std::string& expression,
                        std::uint32_t seed, const std::string& tcpdump_expression) {
  const std::string& theirs_text = tcpdump_expression.empty() ? expression : tcpdump_expression;
  const std::string theirs_path = dir.File("out_t.pcap");
  const std::string ours_path = dir.File("out_w.pcap");
  std::remove(theirs_path.c_str());
  std::remove(ours_path.c_str());
  // -Z root: tcpdump run as root otherwise drops to its own user before
  // opening the output, which cannot write into the private temp dir.
  std::vector<std::string> tcpdump = {"tcpdump", "-Z", "root"};
  if (NeedsUnoptimized(packets, theirs_text)) {
    tcpdump.push_back("-O");
  }
  for (const auto& arg : {std::string("-r"), input, std::string("-w"), theirs_path, theirs_text}) {
    tcpdump.push_back(arg);
  }
  const ProcessResult t = Run(tcpdump);
  EXPECT_EQ(t.exit_code, 0) << "tcpdump \"" << theirs_text << "\": " << t.err;
  const ProcessResult w = Run({WgcapBinary(), "-r", input, "-w", ours_path, expression});
  EXPECT_EQ(w.exit_code, 0) << "wgcap \"" << expression << "\": " << w.err;
  if (t.exit_code != 0 || w.exit_code != 0) {
    return {};
  }
  Capture theirs = ReadCapture(theirs_path);
  const Capture ours = ReadCapture(ours_path);
  EXPECT_EQ(ours.link_type, theirs.link_type) << expression;
  EXPECT_EQ(ours.records.size(), theirs.records.size())
      << "seed " << seed << ", \"" << expression << "\"";
  for (std::size_t i = 0; i < std::min(ours.records.size(), theirs.records.size()); ++i) {
    if (!(ours.records[i] == theirs.records[i])) {
      ADD_FAILURE() << "seed " << seed << ", \"" << expression << "\": record " << i
                    << " differs: tcpdump " << theirs.records[i].seconds << "."
                    << theirs.records[i].microseconds << " " << Hex(theirs.records[i].data)
                    << ", wgcap " << ours.records[i].seconds << "." << ours.records[i].microseconds
                    << " " << Hex(ours.records[i].data);
      break;
    }
  }
  return theirs;
}

} // namespace wgcap::test
