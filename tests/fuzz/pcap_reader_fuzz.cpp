// SPDX-License-Identifier: Apache-2.0
// The pcap reader (SPEC 7: malformed capture files never crash it) on
// arbitrary bytes: open, read every record to the end or the first error,
// strip each to the network layer and parse it. Every error names a byte
// offset; every record holds exactly its captured bytes; the network-layer
// view lies inside the record.
#include "file/pcap_reader.hpp"
#include "fuzz_check.hpp"
#include "wgcap/packet_parse.hpp"

namespace {

using wgcap::fuzz::Fail;

void CheckError(const wgcap::Error& error) {
  if (error.message.find("byte offset") == std::string::npos) {
    Fail("error names no byte offset: " + error.message);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto reader = wgcap::PcapReader::Open(wgcap::fuzz::MemoryFile(data, size));
  if (!reader.ok()) {
    CheckError(reader.error());
    return 0;
  }
  const std::uint32_t link_type = (*reader)->link_type();
  wgcap::FileRecord record;
  std::uint64_t last_offset = 0;
  for (int count = 0;; ++count) {
    auto more = (*reader)->Next(record);
    if (!more.ok()) {
      CheckError(more.error());
      return 0;
    }
    if (!*more) {
      return 0;
    }
    if (record.bytes.size() != record.captured_length) {
      Fail("record holds " + std::to_string(record.bytes.size()) + " bytes, claims " +
           std::to_string(record.captured_length));
    }
    if (record.file_offset >= size || (count > 0 && record.file_offset <= last_offset)) {
      Fail("record offset " + std::to_string(record.file_offset));
    }
    last_offset = record.file_offset;
    const wgcap::PacketRecord packet = wgcap::ToNetworkLayer(link_type, record);
    if (!packet.data.empty() &&
        (packet.data.data() < record.bytes.data() ||
         packet.data.data() + packet.data.size() != record.bytes.data() + record.bytes.size())) {
      Fail("network layer outside the record");
    }
    if (packet.original_length < packet.data.size()) {
      Fail("original length below the captured bytes");
    }
    const wgcap::ParsedPacket parsed = wgcap::ParsePacket(packet.data, packet.original_length);
    if (parsed.captured_length != packet.data.size()) {
      Fail("parse saw another length");
    }
  }
}
