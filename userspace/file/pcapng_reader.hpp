// SPDX-License-Identifier: Apache-2.0
// Reading pcapng: both byte orders, any number of sections and interfaces,
// each interface with its own link type and timestamp resolution. Enhanced,
// simple and the obsolete packet blocks yield records; other blocks are
// skipped by their length. Every length is checked before it is trusted.
// An EPB comment our writer put there (`peer=KEY`, `gso=SEGSxSIZE`, SPEC 10)
// comes back in the record; other comments, and ours malformed, are only
// comments and are passed over.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "file/pcap_reader.hpp"

namespace wgcap {

class PcapngReader final : public CaptureFileReader {
public:
  // Reads the section header and the blocks up to the first interface
  // description, so link_type() and snaplen() are known before Next.
  static Result<std::unique_ptr<PcapngReader>> Open(std::unique_ptr<ByteReader> in);

  Result<bool> Next(FileRecord& record) override;
  std::uint32_t link_type() const noexcept override { return first_link_type_; }
  std::uint32_t snaplen() const noexcept override { return first_snaplen_; }

  // Of the current section.
  bool big_endian() const noexcept { return big_endian_; }
  std::size_t interface_count() const noexcept { return interfaces_.size(); }
  std::size_t section_count() const noexcept { return sections_; }

private:
  struct Interface {
    std::uint32_t link_type = 0;
    std::uint32_t snaplen = 0;
    std::uint8_t tsresol = 6; // the format's default: microseconds
    std::int64_t tsoffset_s = 0;
    const std::string* name = nullptr; // if_name, in names_; null when not given
  };
  enum class Block { End, Packet, Other };

  explicit PcapngReader(std::unique_ptr<ByteReader> in) : in_(std::move(in)) {}

  Result<Block> ReadBlock(FileRecord& record);
  Status Load(std::uint32_t length, std::size_t have); // the rest of a block into block_
  Status Skip(std::uint32_t length, std::size_t have); // the rest of a block, discarded
  Status ParseSectionHeader();
  Status ParseInterface();
  Status ParsePacket(std::uint32_t type, FileRecord& record);
  void ReadComment(std::string_view text, FileRecord& record);
  // "NAME: KIND at byte offset N" and the detail, for the current block.
  Error Problem(const std::string& kind, const std::string& detail) const;
  Error Truncated(std::uint32_t length, std::uint64_t have) const;
  Error TrailerMismatch(std::uint32_t length, std::uint32_t trailer) const;

  std::unique_ptr<ByteReader> in_;
  std::uint64_t block_offset_ = 0;
  std::vector<std::uint8_t> block_; // the current block, reused
  std::vector<Interface> interfaces_;
  bool big_endian_ = false;
  std::size_t sections_ = 0;
  std::uint32_t first_link_type_ = 101; // raw IP until an interface says otherwise
  std::uint32_t first_snaplen_ = 0;
  bool have_first_ = false;
  bool pending_ = false; // Open read a packet block ahead
  FileRecord pending_record_;
  // Every peer key the comments named, so a record's pointer outlives the
  // block it came from (a set: nodes never move).
  std::set<PeerKey> peers_;
  // Every interface name, so a record's pointer outlives its section (a
  // deque: elements never move).
  std::deque<std::string> names_;
};

} // namespace wgcap
