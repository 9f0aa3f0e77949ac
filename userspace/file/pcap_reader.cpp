// SPDX-License-Identifier: Apache-2.0
#include "file/pcap_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "file/pcapng_reader.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

constexpr std::size_t kReadBufferSize = 1 << 16;
constexpr std::size_t kGlobalHeaderSize = 24;
constexpr std::size_t kRecordHeaderSize = 16;
// A hostile header can claim any snaplen; records beyond this are refused
// rather than allocated.
constexpr std::uint32_t kMaxRecordBytes = 16u << 20;

constexpr std::uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNano = 0xa1b23c4d;
constexpr std::uint32_t kMagicPcapng = 0x0a0d0d0a;

std::uint16_t Be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

std::uint32_t Be32(const std::uint8_t* p) noexcept {
  return static_cast<std::uint32_t>(Be16(p)) << 16 | Be16(p + 2);
}

std::uint32_t Swap32(std::uint32_t v) noexcept {
  return __builtin_bswap32(v);
}

class FieldReader {
public:
  explicit FieldReader(bool big_endian) : big_(big_endian) {}
  std::uint16_t U16(const std::uint8_t* p) const noexcept {
    return big_ ? Be16(p) : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
  }
  std::uint32_t U32(const std::uint8_t* p) const noexcept {
    return big_ ? Be32(p) : Swap32(Be32(p));
  }

private:
  bool big_;
};

Error FileError(const std::string& name, const std::string& what) {
  return Error{name + ": " + what, 0};
}

} // namespace

ByteReader::ByteReader(int fd, std::string name, bool owned)
    : fd_(fd), name_(std::move(name)), owned_(owned), buffer_(kReadBufferSize) {}

ByteReader::~ByteReader() {
  if (owned_) {
    ::close(fd_);
  }
}

Result<std::unique_ptr<ByteReader>> ByteReader::OpenFile(const std::string& path) {
  if (path == "-") {
    return std::make_unique<ByteReader>(STDIN_FILENO, "stdin", false);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError("open " + path, errno);
  }
  auto reader = std::make_unique<ByteReader>(fd, path, true);
  // A directory opens fine and fails only at the first read, with a less
  // helpful message.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return Error{path + ": is a directory", EISDIR};
  }
  return reader;
}

Result<std::size_t> ByteReader::Read(std::uint8_t* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    if (begin_ < end_) {
      const std::size_t take = std::min(n - done, end_ - begin_);
      std::memcpy(out + done, buffer_.data() + begin_, take);
      begin_ += take;
      done += take;
      continue;
    }
    // A large request reads straight into the caller's memory.
    const bool direct = n - done >= buffer_.size();
    std::uint8_t* target = direct ? out + done : buffer_.data();
    const ssize_t got = ::read(fd_, target, direct ? n - done : buffer_.size());
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return ErrnoError("read " + name_, errno);
    }
    if (got == 0) {
      break;
    }
    if (direct) {
      done += static_cast<std::size_t>(got);
    } else {
      begin_ = 0;
      end_ = static_cast<std::size_t>(got);
    }
  }
  offset_ += done;
  return done;
}

Result<std::size_t> ByteReader::Peek(std::uint8_t* out, std::size_t n) {
  n = std::min<std::size_t>(n, 16);
  if (end_ - begin_ < n && begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ - begin_ < n) {
    const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return ErrnoError("read " + name_, errno);
    }
    if (got == 0) {
      break;
    }
    end_ += static_cast<std::size_t>(got);
  }
  const std::size_t take = std::min(n, end_ - begin_);
  std::memcpy(out, buffer_.data() + begin_, take);
  return take;
}

Result<std::unique_ptr<CaptureFileReader>> OpenCaptureFile(std::unique_ptr<ByteReader> in) {
  std::array<std::uint8_t, 4> m{};
  auto got = in->Peek(m.data(), m.size());
  if (!got) {
    return got.error();
  }
  const std::uint32_t magic = Be32(m.data());
  if (*got == m.size() && magic == kMagicPcapng) {
    auto reader = PcapngReader::Open(std::move(in));
    if (!reader) {
      return reader.error();
    }
    return std::unique_ptr<CaptureFileReader>(std::move(reader).value());
  }
  const std::uint32_t le = Swap32(magic);
  if (*got == m.size() && magic != kMagicMicro && magic != kMagicNano && le != kMagicMicro &&
      le != kMagicNano) {
    char hex[11];
    std::snprintf(hex, sizeof hex, "0x%08x", magic);
    return FileError(in->name(),
                     std::string("not a pcap or pcapng file (magic ") + hex + " at byte offset 0)");
  }
  auto reader = PcapReader::Open(std::move(in));
  if (!reader) {
    return reader.error();
  }
  return std::unique_ptr<CaptureFileReader>(std::move(reader).value());
}

Result<std::unique_ptr<PcapReader>> PcapReader::Open(std::unique_ptr<ByteReader> in) {
  std::array<std::uint8_t, kGlobalHeaderSize> h{};
  auto got = in->Read(h.data(), h.size());
  if (!got) {
    return got.error();
  }
  const std::string& name = in->name();
  // The magic is judged first, so a short non-pcap file is called that.
  const std::uint32_t magic = Be32(h.data());
  if (*got >= 4) {
    if (magic == kMagicPcapng) {
      return FileError(name, "a pcapng file, not pcap (section header at byte offset 0)");
    }
    const std::uint32_t le = Swap32(magic);
    if (magic != kMagicMicro && magic != kMagicNano && le != kMagicMicro && le != kMagicNano) {
      char hex[11];
      std::snprintf(hex, sizeof hex, "0x%08x", magic);
      return FileError(name, std::string("not a pcap file (magic ") + hex + " at byte offset 0)");
    }
  }
  if (*got < kGlobalHeaderSize) {
    return FileError(name, "truncated pcap global header at byte offset " + std::to_string(*got) +
                               " (24 bytes needed)");
  }
  const bool big_endian = magic == kMagicMicro || magic == kMagicNano;
  const FieldReader field(big_endian);
  const std::uint16_t major = field.U16(&h[4]);
  const std::uint16_t minor = field.U16(&h[6]);
  if (major != 2) {
    return FileError(name, "unsupported pcap version " + std::to_string(major) + "." +
                               std::to_string(minor) + " at byte offset 4 (2.x needed)");
  }
  std::unique_ptr<PcapReader> reader(new PcapReader(std::move(in)));
  reader->nanosecond_ = magic == kMagicNano || Swap32(magic) == kMagicNano;
  reader->swapped_ = big_endian != (std::endian::native == std::endian::big);
  reader->snaplen_ = field.U32(&h[16]);
  // The upper bits carry FCS information, not the link type.
  reader->link_type_ = field.U32(&h[20]) & 0xffff;
  return reader;
}

Result<bool> PcapReader::Next(FileRecord& record) {
  const std::uint64_t start = in_->offset();
  const std::string at = "at byte offset " + std::to_string(start);
  std::array<std::uint8_t, kRecordHeaderSize> h{};
  auto got = in_->Read(h.data(), h.size());
  if (!got) {
    return got.error();
  }
  if (*got == 0) {
    return false;
  }
  if (*got < h.size()) {
    return FileError(in_->name(), "truncated record " + at + ": header needs 16 bytes, file has " +
                                      std::to_string(*got));
  }
  const FieldReader field(swapped_ == (std::endian::native == std::endian::little));
  const std::uint32_t seconds = field.U32(&h[0]);
  const std::uint32_t fraction = field.U32(&h[4]);
  const std::uint32_t captured = field.U32(&h[8]);
  const std::uint32_t limit = std::max(kMaxSnaplen, std::min(snaplen_, kMaxRecordBytes));
  if (captured > limit) {
    return FileError(in_->name(), "record " + at + " claims " + std::to_string(captured) +
                                      " captured bytes (at most " + std::to_string(limit) +
                                      " allowed)");
  }
  if (data_.size() < captured) {
    data_.resize(captured);
  }
  got = in_->Read(data_.data(), captured);
  if (!got) {
    return got.error();
  }
  if (*got < captured) {
    return FileError(in_->name(), "truncated record " + at + ": data needs " +
                                      std::to_string(captured) + " bytes, file has " +
                                      std::to_string(*got));
  }
  record.timestamp_ns = static_cast<std::int64_t>(seconds) * 1'000'000'000 +
                        static_cast<std::int64_t>(fraction) * (nanosecond_ ? 1 : 1000);
  record.captured_length = captured;
  record.original_length = field.U32(&h[12]);
  record.file_offset = start;
  record.bytes = std::span<const std::uint8_t>(data_.data(), captured);
  record.link_type = link_type_;
  record.direction = Direction::Unknown;
  record.interface_id = 0;
  return true;
}

bool IsSupportedLinkType(std::uint32_t link_type) noexcept {
  switch (link_type) {
  case kLinkTypeNull:
  case kLinkTypeEthernet:
  case 12: // DLT_RAW as most systems number it, found in old files
  case 14: // DLT_RAW on OpenBSD
  case kLinkTypeRaw:
  case kLinkTypeLinuxSll:
  case kLinkTypeLinuxSll2:
  case kLinkTypeIpv4:
  case kLinkTypeIpv6:
    return true;
  default:
    return false;
  }
}

namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

bool IsIpEtherType(std::uint16_t type) noexcept {
  return type == kEtherTypeIpv4 || type == kEtherTypeIpv6;
}

// Where the network layer starts, whether it is IP, and the direction.
struct LinkHeader {
  std::size_t length = 0;
  bool ip = false;
  Direction direction = Direction::Unknown;
};

LinkHeader ParseEthernet(std::span<const std::uint8_t> b) noexcept {
  LinkHeader link{14, false};
  if (b.size() < link.length) {
    return link;
  }
  std::uint16_t type = Be16(&b[12]);
  // 802.1Q, 802.1ad and the pre-standard 0x9100 QinQ tag, possibly stacked.
  while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
    if (b.size() < link.length + 4) {
      link.length += 4;
      return link;
    }
    type = Be16(&b[link.length + 2]);
    link.length += 4;
  }
  link.ip = IsIpEtherType(type);
  return link;
}

Direction SllDirection(std::uint16_t packet_type) noexcept {
  // PACKET_OUTGOING is 4; HOST, BROADCAST, MULTICAST and OTHERHOST arrived.
  if (packet_type == 4) {
    return Direction::Outbound;
  }
  return packet_type <= 3 ? Direction::Inbound : Direction::Unknown;
}

LinkHeader ParseLink(std::uint32_t link_type, std::span<const std::uint8_t> b) noexcept {
  switch (link_type) {
  case kLinkTypeEthernet:
    return ParseEthernet(b);
  case kLinkTypeLinuxSll:
    if (b.size() < 16) {
      return {16, false};
    }
    return {16, IsIpEtherType(Be16(&b[14])), SllDirection(Be16(&b[0]))};
  case kLinkTypeLinuxSll2:
    if (b.size() < 20) {
      return {20, false};
    }
    return {20, IsIpEtherType(Be16(&b[0])), SllDirection(b[10])};
  case kLinkTypeNull: {
    if (b.size() < 4) {
      return {4, false};
    }
    // The family is in the capturing host's byte order, which may not be
    // the file's: a value with high bits set is the other order.
    std::uint32_t family = Be32(&b[0]);
    if (family & 0xffff0000) {
      family = Swap32(family);
    }
    return {4, family == 2 || family == 24 || family == 28 || family == 30};
  }
  case 12:
  case 14:
  case kLinkTypeRaw:
  case kLinkTypeIpv4:
  case kLinkTypeIpv6:
    return {0, true};
  default:
    return {0, false};
  }
}

} // namespace

PacketRecord ToNetworkLayer(std::uint32_t link_type, const FileRecord& record) noexcept {
  PacketRecord out;
  out.timestamp_ns = record.timestamp_ns;
  out.peer = record.peer;
  out.interface_name = record.interface_name;
  out.gso_segs = record.gso_segs;
  out.gso_size = record.gso_size;
  const LinkHeader link = ParseLink(link_type, record.bytes);
  out.direction = link.direction;
  const std::uint32_t header = static_cast<std::uint32_t>(link.length);
  const std::uint32_t original =
      record.original_length > header ? record.original_length - header : 0;
  if (!link.ip || record.bytes.size() < link.length) {
    out.original_length = original;
    return out;
  }
  out.data = record.bytes.subspan(link.length);
  // A stored original length below the captured one is a writer bug; the
  // captured bytes are the better witness.
  out.original_length = std::max(original, static_cast<std::uint32_t>(out.data.size()));
  return out;
}

PacketRecord ToNetworkLayer(const FileRecord& record) noexcept {
  PacketRecord out = ToNetworkLayer(record.link_type, record);
  if (out.direction == Direction::Unknown) {
    out.direction = record.direction;
  }
  return out;
}

} // namespace wgcap
