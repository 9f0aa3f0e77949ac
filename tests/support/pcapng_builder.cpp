// SPDX-License-Identifier: Apache-2.0
#include "support/pcapng_builder.hpp"

#include "wgcap/pcap_writer.hpp"

namespace wgcap::test {

PcapngBuilder::PcapngBuilder(bool big_endian, std::uint16_t major) {
  Section(big_endian, major);
}

PcapngBuilder& PcapngBuilder::Section(bool big_endian, std::uint16_t major) {
  big_ = big_endian;
  Begin(pcapng::kSectionHeader);
  U32(pcapng::kByteOrderMagic);
  U16(major);
  U16(0);
  U32(0xffffffff); // section length -1
  U32(0xffffffff);
  return End();
}

PcapngBuilder& PcapngBuilder::Interface(std::uint16_t link_type, std::uint32_t snaplen,
                                        std::optional<std::uint8_t> tsresol,
                                        std::optional<std::int64_t> tsoffset,
                                        const std::string& name) {
  Begin(pcapng::kInterfaceDescription);
  U16(link_type);
  U16(0);
  U32(snaplen);
  if (!name.empty()) {
    Option(pcapng::kIfName, Bytes(name.begin(), name.end()));
  }
  if (tsresol) {
    Option(pcapng::kIfTsresol, {*tsresol});
  }
  if (tsoffset) {
    U16(pcapng::kIfTsoffset);
    U16(8);
    U64(static_cast<std::uint64_t>(*tsoffset));
  }
  U32(0);
  return End();
}

PcapngBuilder& PcapngBuilder::Epb(std::uint32_t id, std::uint64_t ticks, const Bytes& data,
                                  std::optional<std::uint32_t> flags, std::uint32_t original,
                                  std::optional<std::uint32_t> captured,
                                  const std::vector<std::string>& comments) {
  Begin(pcapng::kEnhancedPacket);
  U32(id);
  U32(static_cast<std::uint32_t>(ticks >> 32));
  U32(static_cast<std::uint32_t>(ticks));
  U32(captured.value_or(static_cast<std::uint32_t>(data.size())));
  U32(original != 0 ? original : static_cast<std::uint32_t>(data.size()));
  Data(data);
  if (flags) {
    U16(pcapng::kEpbFlags);
    U16(4);
    U32(*flags);
  }
  for (const std::string& c : comments) {
    Option(pcapng::kOptComment, Bytes(c.begin(), c.end()));
  }
  if (flags || !comments.empty()) {
    U32(0); // opt_endofopt
  }
  return End();
}

PcapngBuilder& PcapngBuilder::EpbWithComments(std::uint32_t id, std::uint64_t ticks,
                                              const Bytes& data, std::uint32_t flags,
                                              const std::vector<std::string>& comments) {
  return Epb(id, ticks, data, flags, 0, std::nullopt, comments);
}

PcapngBuilder& PcapngBuilder::Pb(std::uint16_t id, std::uint64_t ticks, const Bytes& data,
                                 std::uint32_t flags) {
  Begin(pcapng::kPacket);
  U16(id);
  U16(0); // drops
  U32(static_cast<std::uint32_t>(ticks >> 32));
  U32(static_cast<std::uint32_t>(ticks));
  U32(static_cast<std::uint32_t>(data.size()));
  U32(static_cast<std::uint32_t>(data.size()));
  Data(data);
  U16(pcapng::kEpbFlags);
  U16(4);
  U32(flags);
  return End();
}

PcapngBuilder& PcapngBuilder::Spb(const Bytes& stored, std::uint32_t original) {
  Begin(pcapng::kSimplePacket);
  U32(original);
  Data(stored);
  return End();
}

PcapngBuilder& PcapngBuilder::Raw(std::uint32_t type, const Bytes& body,
                                  std::optional<std::uint32_t> length,
                                  std::optional<std::uint32_t> trailer) {
  Begin(type);
  Data(body);
  return End(length, trailer);
}

PcapngBuilder::Bytes PcapngBuilder::Le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}

void PcapngBuilder::U16(std::uint16_t v) {
  bytes.push_back(static_cast<std::uint8_t>(big_ ? v >> 8 : v));
  bytes.push_back(static_cast<std::uint8_t>(big_ ? v : v >> 8));
}

void PcapngBuilder::U32(std::uint32_t v) {
  U16(static_cast<std::uint16_t>(big_ ? v >> 16 : v));
  U16(static_cast<std::uint16_t>(big_ ? v : v >> 16));
}

void PcapngBuilder::U64(std::uint64_t v) {
  U32(static_cast<std::uint32_t>(big_ ? v >> 32 : v));
  U32(static_cast<std::uint32_t>(big_ ? v : v >> 32));
}

void PcapngBuilder::Data(const Bytes& d) {
  bytes.insert(bytes.end(), d.begin(), d.end());
  bytes.resize((bytes.size() + 3) & ~std::size_t{3}, 0);
}

void PcapngBuilder::Option(std::uint16_t code, const Bytes& value) {
  U16(code);
  U16(static_cast<std::uint16_t>(value.size()));
  Data(value);
}

void PcapngBuilder::Begin(std::uint32_t type) {
  starts.push_back(bytes.size());
  U32(type);
  U32(0); // the length, set by End
}

PcapngBuilder& PcapngBuilder::End(std::optional<std::uint32_t> length,
                                  std::optional<std::uint32_t> trailer) {
  const std::size_t start = starts.back();
  const auto real = static_cast<std::uint32_t>(bytes.size() + 4 - start);
  U32(trailer.value_or(length.value_or(real)));
  // Rewrite the leading length in the section's byte order.
  Bytes rest(bytes.begin() + static_cast<std::ptrdiff_t>(start + 8), bytes.end());
  bytes.resize(start + 4);
  U32(length.value_or(real));
  bytes.insert(bytes.end(), rest.begin(), rest.end());
  return *this;
}

} // namespace wgcap::test
