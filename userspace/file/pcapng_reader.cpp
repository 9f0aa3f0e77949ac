// SPDX-License-Identifier: Apache-2.0
#include "file/pcapng_reader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>

#include "base/peer_key_text.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

// The largest packet the pcap reader accepts plus room for options: a block
// claiming more is refused rather than allocated. Blocks that are skipped are
// never held whole, so they may be any size the file really has.
constexpr std::uint32_t kMaxBlockBytes = (16u << 20) + (64u << 10);
constexpr std::uint32_t kMinBlockBytes = 12; // type, length, trailing length
constexpr std::uint32_t kMinSectionHeaderBytes = 28;
constexpr std::size_t kSkipChunk = 1 << 16;

__extension__ typedef unsigned __int128 U128;

std::uint16_t Get16(const std::uint8_t* p, bool big) noexcept {
  return big ? static_cast<std::uint16_t>(p[0] << 8 | p[1])
             : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
}

std::uint32_t Get32(const std::uint8_t* p, bool big) noexcept {
  const std::uint32_t a = Get16(p, big), b = Get16(p + 2, big);
  return big ? a << 16 | b : b << 16 | a;
}

std::uint64_t Get64(const std::uint8_t* p, bool big) noexcept {
  const std::uint64_t a = Get32(p, big), b = Get32(p + 4, big);
  return big ? a << 32 | b : b << 32 | a;
}

std::size_t Padded(std::size_t n) noexcept {
  return (n + 3) & ~std::size_t{3};
}

std::string At(std::uint64_t offset) {
  return "at byte offset " + std::to_string(offset);
}

// Timestamp units to ns since the epoch: if_tsresol's high bit picks a power
// of two, otherwise a power of ten; if_tsoffset adds whole seconds.
std::int64_t ToNanoseconds(std::uint64_t ticks, std::uint8_t tsresol, std::int64_t offset_s) {
  const unsigned exponent = tsresol & 0x7f;
  U128 ns;
  if (tsresol & 0x80) {
    ns = exponent >= 128 ? 0 : (static_cast<U128>(ticks) * 1'000'000'000u) >> exponent;
  } else if (exponent <= 9) {
    U128 scale = 1;
    for (unsigned i = exponent; i < 9; ++i) {
      scale *= 10;
    }
    ns = static_cast<U128>(ticks) * scale;
  } else {
    U128 divisor = 1;
    for (unsigned i = 9; i < exponent && divisor <= ticks; ++i) {
      divisor *= 10;
    }
    ns = ticks / divisor;
  }
  constexpr U128 kMax = static_cast<U128>(std::numeric_limits<std::int64_t>::max());
  const auto clamped = static_cast<std::int64_t>(std::min(ns, kMax));
  // Saturating: an absurd offset must not wrap around to a plausible time.
  std::int64_t shift = 0;
  if (__builtin_mul_overflow(offset_s, std::int64_t{1'000'000'000}, &shift)) {
    return offset_s < 0 ? std::numeric_limits<std::int64_t>::min()
                        : std::numeric_limits<std::int64_t>::max();
  }
  std::int64_t total = 0;
  if (__builtin_add_overflow(clamped, shift, &total)) {
    return shift < 0 ? std::numeric_limits<std::int64_t>::min()
                     : std::numeric_limits<std::int64_t>::max();
  }
  return total;
}

} // namespace

Result<std::unique_ptr<PcapngReader>> PcapngReader::Open(std::unique_ptr<ByteReader> in) {
  std::unique_ptr<PcapngReader> reader(new PcapngReader(std::move(in)));
  std::array<std::uint8_t, 4> magic{};
  auto got = reader->in_->Peek(magic.data(), magic.size());
  if (!got) {
    return got.error();
  }
  if (*got < magic.size() || Get32(magic.data(), true) != pcapng::kSectionHeader) {
    return Error{reader->in_->name() + ": not a pcapng file (no section header at byte offset 0)",
                 0};
  }
  // Up to the first interface, so the banner can name its link type; a
  // packet block met on the way is kept for the first Next.
  while (!reader->have_first_) {
    auto block = reader->ReadBlock(reader->pending_record_);
    if (!block) {
      return block.error();
    }
    if (*block == Block::End) {
      break;
    }
    if (*block == Block::Packet) {
      reader->pending_ = true;
      break;
    }
  }
  return reader;
}

Result<bool> PcapngReader::Next(FileRecord& record) {
  if (pending_) {
    pending_ = false;
    record = pending_record_;
    return true;
  }
  for (;;) {
    auto block = ReadBlock(record);
    if (!block) {
      return block.error();
    }
    if (*block != Block::Other) {
      return *block == Block::Packet;
    }
  }
}

Result<PcapngReader::Block> PcapngReader::ReadBlock(FileRecord& record) {
  block_offset_ = in_->offset();

  // The section header's type reads the same in both byte orders; its
  // byte-order magic, right after the length, decides how to read the rest.
  std::array<std::uint8_t, 12> head{};
  auto got = in_->Read(head.data(), 8);
  if (!got) {
    return got.error();
  }
  if (*got == 0) {
    return Block::End;
  }
  if (*got < 8) {
    return Problem("truncated block", ": header needs 8 bytes, file has " + std::to_string(*got));
  }
  std::size_t have = 8;
  const bool section = Get32(head.data(), true) == pcapng::kSectionHeader;
  if (section) {
    got = in_->Read(head.data() + 8, 4);
    if (!got) {
      return got.error();
    }
    have += *got;
    if (have < 12) {
      return Problem("truncated block",
                     ": section header needs 28 bytes, file has " + std::to_string(have));
    }
    const std::uint32_t magic = Get32(&head[8], true);
    if (magic != pcapng::kByteOrderMagic && magic != __builtin_bswap32(pcapng::kByteOrderMagic)) {
      char hex[11];
      std::snprintf(hex, sizeof hex, "0x%08x", magic);
      return Problem("section header", std::string(": unknown byte-order magic ") + hex);
    }
    big_endian_ = magic == pcapng::kByteOrderMagic;
  }
  const std::uint32_t type = Get32(head.data(), big_endian_);
  const std::uint32_t length = Get32(&head[4], big_endian_);
  const std::uint32_t minimum = section ? kMinSectionHeaderBytes : kMinBlockBytes;

  if (length < minimum || length % 4 != 0) {
    return Problem("block",
                   ": length " + std::to_string(length) +
                       (length < minimum ? " is below the minimum " + std::to_string(minimum)
                                         : std::string(" is not a multiple of 4")));
  }
  const bool parsed = section || type == pcapng::kInterfaceDescription ||
                      type == pcapng::kEnhancedPacket || type == pcapng::kSimplePacket ||
                      type == pcapng::kPacket;
  if (!parsed) {
    if (auto s = Skip(length, have); !s) {
      return s.error();
    }
    return Block::Other;
  }
  if (length > kMaxBlockBytes) {
    return Problem("block", " claims " + std::to_string(length) + " bytes (at most " +
                                std::to_string(kMaxBlockBytes) + " allowed)");
  }
  if (block_.size() < length) {
    block_.resize(length);
  }
  std::copy(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(have), block_.begin());
  if (auto s = Load(length, have); !s) {
    return s.error();
  }
  Status parsed_ok;
  if (section) {
    parsed_ok = ParseSectionHeader();
  } else if (type == pcapng::kInterfaceDescription) {
    parsed_ok = ParseInterface();
  } else {
    parsed_ok = ParsePacket(type, record);
    if (parsed_ok) {
      return Block::Packet;
    }
  }
  if (!parsed_ok) {
    return parsed_ok.error();
  }
  return Block::Other;
}

Error PcapngReader::Problem(const std::string& kind, const std::string& detail) const {
  return Error{in_->name() + ": " + kind + " " + At(block_offset_) + detail, 0};
}

Error PcapngReader::Truncated(std::uint32_t length, std::uint64_t have) const {
  return Problem("truncated block", ": block needs " + std::to_string(length) +
                                        " bytes, file has " + std::to_string(have));
}

Error PcapngReader::TrailerMismatch(std::uint32_t length, std::uint32_t trailer) const {
  return Problem("block", ": trailing length " + std::to_string(trailer) +
                              " differs from the leading " + std::to_string(length));
}

Status PcapngReader::Load(std::uint32_t length, std::size_t have) {
  auto got = in_->Read(block_.data() + have, length - have);
  if (!got) {
    return got.error();
  }
  if (*got < length - have) {
    return Truncated(length, have + *got);
  }
  const std::uint32_t trailer = Get32(&block_[length - 4], big_endian_);
  if (trailer != length) {
    return TrailerMismatch(length, trailer);
  }
  return {};
}

Status PcapngReader::Skip(std::uint32_t length, std::size_t have) {
  if (block_.size() < kSkipChunk) {
    block_.resize(kSkipChunk);
  }
  std::uint64_t done = have;
  // All but the trailing length, which is checked.
  while (done < length - 4) {
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(kSkipChunk, static_cast<std::uint64_t>(length) - 4 - done));
    auto got = in_->Read(block_.data(), want);
    if (!got) {
      return got.error();
    }
    done += *got;
    if (*got < want) {
      return Truncated(length, done);
    }
  }
  auto got = in_->Read(block_.data(), 4);
  if (!got) {
    return got.error();
  }
  if (*got < 4) {
    return Truncated(length, done + *got);
  }
  const std::uint32_t trailer = Get32(block_.data(), big_endian_);
  if (trailer != length) {
    return TrailerMismatch(length, trailer);
  }
  return {};
}

namespace {

// Calls f(code, value, length) for each option in block[from, to), up to
// opt_endofopt. Returns the offset of an option that overruns the area, or
// `to` when all fit.
template <typename F>
std::size_t ForEachOption(const std::uint8_t* block, std::size_t from, std::size_t to, bool big,
                          F&& f) {
  std::size_t at = from;
  while (at + 4 <= to) {
    const std::uint16_t code = Get16(block + at, big);
    const std::uint16_t length = Get16(block + at + 2, big);
    if (code == pcapng::kOptEnd) {
      return to;
    }
    if (at + 4 + length > to) {
      return at;
    }
    f(code, block + at + 4, length);
    at += 4 + Padded(length);
  }
  return to;
}

} // namespace

Status PcapngReader::ParseSectionHeader() {
  const std::uint16_t major = Get16(&block_[12], big_endian_);
  const std::uint16_t minor = Get16(&block_[14], big_endian_);
  if (major != 1) {
    return Problem("section header", ": unsupported pcapng version " + std::to_string(major) + "." +
                                         std::to_string(minor) + " (1.x needed)");
  }
  // Interface ids count from 0 again in every section.
  interfaces_.clear();
  ++sections_;
  return {};
}

Status PcapngReader::ParseInterface() {
  const std::uint32_t length = Get32(&block_[4], big_endian_);
  if (length < 20) {
    return Problem("interface description",
                   ": length " + std::to_string(length) + " is below the minimum 20");
  }
  Interface i;
  i.link_type = Get16(&block_[8], big_endian_);
  i.snaplen = Get32(&block_[12], big_endian_);
  const bool big = big_endian_;
  const std::size_t bad =
      ForEachOption(block_.data(), 16, length - 4, big,
                    [&](std::uint16_t code, const std::uint8_t* value, std::uint16_t size) {
                      if (code == pcapng::kIfTsresol && size >= 1) {
                        i.tsresol = value[0];
                      } else if (code == pcapng::kIfTsoffset && size >= 8) {
                        i.tsoffset_s = static_cast<std::int64_t>(Get64(value, big));
                      } else if (code == pcapng::kIfName && size > 0) {
                        // UTF-8, maybe NUL-padded by the writer.
                        const std::string_view text(reinterpret_cast<const char*>(value), size);
                        i.name = &names_.emplace_back(text.substr(0, text.find('\0')));
                      }
                    });
  if (bad != length - 4) {
    return Problem("interface description",
                   ": option " + At(block_offset_ + bad) + " overruns the block");
  }
  if (!have_first_) {
    have_first_ = true;
    first_link_type_ = i.link_type;
    first_snaplen_ = i.snaplen;
  }
  interfaces_.push_back(i);
  return {};
}

// Enhanced and obsolete packet blocks share a layout (the obsolete one packs
// a 16-bit drop count beside a 16-bit interface id); a simple packet block
// has only the original length and belongs to interface 0.
Status PcapngReader::ParsePacket(std::uint32_t type, FileRecord& record) {
  const std::uint32_t length = Get32(&block_[4], big_endian_);

  const bool simple = type == pcapng::kSimplePacket;
  const std::size_t fixed = simple ? 12 : 28; // where the packet data starts
  if (length < fixed + 4) {
    return Problem("packet block", ": length " + std::to_string(length) + " is below the minimum " +
                                       std::to_string(fixed + 4));
  }
  const std::uint32_t id = simple                    ? 0
                           : type == pcapng::kPacket ? Get16(&block_[8], big_endian_)
                                                     : Get32(&block_[8], big_endian_);
  if (id >= interfaces_.size()) {
    return Problem("packet block", ": interface " + std::to_string(id) +
                                       " is not described in this section (" +
                                       std::to_string(interfaces_.size()) + " are)");
  }
  const Interface& i = interfaces_[id];
  std::uint32_t captured, original;
  std::uint64_t ticks = 0;
  if (simple) {
    original = Get32(&block_[8], big_endian_);
    // The block holds min(original, snaplen) bytes; the rest is padding.
    captured = std::min<std::uint32_t>(original, length - 16);
    if (i.snaplen != 0) {
      captured = std::min(captured, i.snaplen);
    }
  } else {
    ticks = static_cast<std::uint64_t>(Get32(&block_[12], big_endian_)) << 32 |
            Get32(&block_[16], big_endian_);
    captured = Get32(&block_[20], big_endian_);
    original = Get32(&block_[24], big_endian_);
    if (fixed + Padded(captured) > length - 4) {
      return Problem("packet block", ": captured length " + std::to_string(captured) +
                                         " overruns the block (length " + std::to_string(length) +
                                         ")");
    }
  }
  Direction direction = Direction::Unknown;
  record.peer = nullptr;
  record.gso_segs = record.gso_size = 0;
  if (!simple) {
    const bool big = big_endian_;
    const std::size_t end = length - 4;
    const std::size_t bad =
        ForEachOption(block_.data(), fixed + Padded(captured), end, big,
                      [&](std::uint16_t code, const std::uint8_t* value, std::uint16_t size) {
                        if (code == pcapng::kEpbFlags && size >= 4) {
                          const std::uint32_t flags = Get32(value, big) & 3;
                          direction = flags == pcapng::kFlagsInbound    ? Direction::Inbound
                                      : flags == pcapng::kFlagsOutbound ? Direction::Outbound
                                                                        : Direction::Unknown;
                        } else if (code == pcapng::kOptComment) {
                          ReadComment({reinterpret_cast<const char*>(value), size}, record);
                        }
                      });
    if (bad != end) {
      return Problem("packet block", ": option " + At(block_offset_ + bad) + " overruns the block");
    }
  }
  record.timestamp_ns = simple ? 0 : ToNanoseconds(ticks, i.tsresol, i.tsoffset_s);
  record.captured_length = captured;
  record.original_length = original;
  record.file_offset = block_offset_;
  record.bytes = std::span<const std::uint8_t>(block_.data() + fixed, captured);
  record.link_type = i.link_type;
  record.direction = direction;
  record.interface_id = id;
  record.interface_name = i.name;
  return {};
}

namespace {

// A decimal number from 1 to 65535 that is all of `text`.
bool ParseU16(std::string_view text, std::uint16_t& out) noexcept {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 0xffff) {
    return false;
  }
  out = static_cast<std::uint16_t>(value);
  return true;
}

} // namespace

void PcapngReader::ReadComment(std::string_view text, FileRecord& record) {
  if (text.starts_with("peer=")) {
    if (auto key = PeerKeyFromText(text.substr(5))) {
      record.peer = &*peers_.insert(*key).first;
    }
  } else if (text.starts_with("gso=")) {
    const std::string_view value = text.substr(4);
    const std::size_t x = value.find('x');
    std::uint16_t segs = 0, size = 0;
    if (x != std::string_view::npos && ParseU16(value.substr(0, x), segs) &&
        ParseU16(value.substr(x + 1), size)) {
      record.gso_segs = segs;
      record.gso_size = size;
    }
  }
}

} // namespace wgcap
