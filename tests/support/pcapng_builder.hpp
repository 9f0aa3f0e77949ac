// SPDX-License-Identifier: Apache-2.0
// Builds pcapng files block by block for reader tests: each section in the
// byte order it chooses, any block with any (possibly false) length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wgcap::test {

class PcapngBuilder {
public:
  using Bytes = std::vector<std::uint8_t>;

  explicit PcapngBuilder(bool big_endian = false, std::uint16_t major = 1);

  PcapngBuilder& Section(bool big_endian, std::uint16_t major = 1);
  // if_name `name` (none when empty); if_tsresol and if_tsoffset only when
  // given.
  PcapngBuilder& Interface(std::uint16_t link_type, std::uint32_t snaplen = 0,
                           std::optional<std::uint8_t> tsresol = {},
                           std::optional<std::int64_t> tsoffset = {},
                           const std::string& name = "eth0");
  // original 0 means data.size(); captured overrides the stored length.
  PcapngBuilder& Epb(std::uint32_t id, std::uint64_t ticks, const Bytes& data,
                     std::optional<std::uint32_t> flags = {}, std::uint32_t original = 0,
                     std::optional<std::uint32_t> captured = {},
                     const std::vector<std::string>& comments = {});
  // An EPB with epb_flags and one opt_comment per entry of `comments`.
  PcapngBuilder& EpbWithComments(std::uint32_t id, std::uint64_t ticks, const Bytes& data,
                                 std::uint32_t flags, const std::vector<std::string>& comments);
  // The obsolete packet block, with pack_flags.
  PcapngBuilder& Pb(std::uint16_t id, std::uint64_t ticks, const Bytes& data, std::uint32_t flags);
  PcapngBuilder& Spb(const Bytes& stored, std::uint32_t original);
  // Any block; `length` and `trailer` override the true length.
  PcapngBuilder& Raw(std::uint32_t type, const Bytes& body,
                     std::optional<std::uint32_t> length = {},
                     std::optional<std::uint32_t> trailer = {});

  // A little-endian word, whatever the section's order, for hand-made bodies.
  static Bytes Le32(std::uint32_t v);

  Bytes bytes;
  std::vector<std::size_t> starts; // of every block

private:
  void U16(std::uint16_t v);
  void U32(std::uint32_t v);
  void U64(std::uint64_t v);
  void Data(const Bytes& d); // padded to 4
  void Option(std::uint16_t code, const Bytes& value);
  void Begin(std::uint32_t type);
  PcapngBuilder& End(std::optional<std::uint32_t> length = {},
                     std::optional<std::uint32_t> trailer = {});

  bool big_ = false;
};

} // namespace wgcap::test
