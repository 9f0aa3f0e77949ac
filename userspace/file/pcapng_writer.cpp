// SPDX-License-Identifier: Apache-2.0
#include "wgcap/pcap_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "base/little_endian.hpp"
#include "file/pcapng_comments.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

// type, length, interface, timestamp (2), captured, original; epb_flags
// (4 + 4), end of options (4), trailing length (4).
constexpr std::size_t kEpbOverhead = 28 + 8 + 4 + 4;
// if_tsresol = 9: timestamps count nanoseconds.
constexpr std::uint8_t kNanosecondResolution = 9;

// Explicitly little-endian, whatever the host.
void Put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

void Put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  Put16(b, static_cast<std::uint16_t>(v));
  Put16(b, static_cast<std::uint16_t>(v >> 16));
}

void Put64(std::vector<std::uint8_t>& b, std::uint64_t v) {
  Put32(b, static_cast<std::uint32_t>(v));
  Put32(b, static_cast<std::uint32_t>(v >> 32));
}

// pcapng timestamps are one 64-bit count split high word first, so in a
// little-endian file they are not a plain little-endian u64.
void PutTimestamp(std::vector<std::uint8_t>& b, std::uint64_t ns) {
  Put32(b, static_cast<std::uint32_t>(ns >> 32));
  Put32(b, static_cast<std::uint32_t>(ns));
}

void PutPadding(std::vector<std::uint8_t>& b) {
  b.resize(Padded(b.size()), 0);
}

void PutOption(std::vector<std::uint8_t>& b, std::uint16_t code,
               std::span<const std::uint8_t> value) {
  Put16(b, code);
  Put16(b, static_cast<std::uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  PutPadding(b);
}

void PutOption(std::vector<std::uint8_t>& b, std::uint16_t code, std::string_view text) {
  // An option length is 16 bits; longer text is cut rather than corrupting
  // the block.
  text = text.substr(0, 0xfff0);
  PutOption(b, code, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void PutOption64(std::vector<std::uint8_t>& b, std::uint16_t code, std::int64_t v) {
  Put16(b, code);
  Put16(b, 8);
  Put64(b, static_cast<std::uint64_t>(std::max<std::int64_t>(v, 0)));
}

void BeginBlock(std::vector<std::uint8_t>& b, std::uint32_t type) {
  b.clear();
  Put32(b, type);
  Put32(b, 0); // total length, patched by Emit
}

// The format has no time before 1970.
std::uint64_t Unsigned(std::int64_t ns) noexcept {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
}

struct EpbFields {
  std::uint32_t interface_id;
  std::uint64_t ns;
  std::uint32_t captured, original, flags;
};

// Keeps at most snaplen bytes; the original length stays.
EpbFields FieldsOf(const PacketRecord& packet, std::uint32_t id, std::uint32_t snaplen) noexcept {
  const auto size = static_cast<std::uint32_t>(
      std::min<std::size_t>(packet.data.size(), std::numeric_limits<std::uint32_t>::max()));
  const std::uint32_t captured = std::min(size, snaplen);
  std::uint32_t flags = 0;
  if (packet.direction == Direction::Inbound) {
    flags = pcapng::kFlagsInbound;
  } else if (packet.direction == Direction::Outbound) {
    flags = pcapng::kFlagsOutbound;
  }
  return EpbFields{
      .interface_id = id,
      .ns = Unsigned(packet.timestamp_ns),
      .captured = captured,
      .original = std::max(packet.original_length == 0 ? size : packet.original_length, captured),
      .flags = flags};
}

std::uint32_t TotalOf(const EpbFields& f, const EpbComments& c = {}) noexcept {
  return static_cast<std::uint32_t>(kEpbOverhead + Padded(f.captured) + c.bytes);
}

// An enhanced packet block of `total` bytes at `b`: the packet's first
// `captured` bytes, padded, then epb_flags and (kWithComments) the comments.
// The packet is copied last, so little has to stay live across the memcpy
// call.
template <bool kWithComments>
void LayOutEpb(std::uint8_t* b, std::uint32_t total, const EpbFields& f, const std::uint8_t* data,
               const EpbComments& comments) noexcept {
  const std::size_t padded = Padded(f.captured);
  PutLe32(b, pcapng::kEnhancedPacket);
  PutLe32(b + 4, total);
  PutLe32(b + 8, f.interface_id);
  PutLe32(b + 12, static_cast<std::uint32_t>(f.ns >> 32));
  PutLe32(b + 16, static_cast<std::uint32_t>(f.ns));
  PutLe32(b + 20, f.captured);
  PutLe32(b + 24, f.original);
  std::uint8_t* options = b + 28 + padded;
  PutLe16(options, pcapng::kEpbFlags);
  PutLe16(options + 2, 4);
  PutLe32(options + 4, f.flags);
  options += 8;
  if constexpr (kWithComments) {
    options = PutComments(options, comments);
  }
  PutLe32(options, pcapng::kOptEnd);
  PutLe32(options + 4, total);
  if (f.captured != 0) {
    // The 0-3 pad bytes lie in the last 4-byte word: zeroed first, then the
    // packet copied over its start (a fixed store, not a variable memset).
    PutLe32(b + 28 + padded - 4, 0);
    std::memcpy(b + 28, data, f.captured);
  }
}

std::int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

// The snaplen rule is PcapWriter's: readers built on libpcap reject larger
// packets.
PcapngWriter::PcapngWriter(ByteWriter& out, PcapngWriterOptions options)
    : out_(out), options_(std::move(options)) {
  options_.snaplen =
      options_.snaplen == 0 ? kDefaultSnaplen : std::min(options_.snaplen, kMaxSnaplen);
  // Every packet block fits: no allocation per packet.
  epb_ = std::make_unique_for_overwrite<std::uint8_t[]>(kEpbOverhead + Padded(options_.snaplen) +
                                                        kMaxCommentBytes);
  interfaces_.reserve(4);
  peer_comments_ = std::make_unique<PeerComments>();
}

PcapngWriter::~PcapngWriter() = default;

Status PcapngWriter::Emit() {
  const auto total = static_cast<std::uint32_t>(buffer_.size() + 4);
  Put32(buffer_, total);
  PutLe32(&buffer_[4], total);
  return out_.Write(buffer_);
}

Status PcapngWriter::WriteHeader() {
  if (header_written_) {
    return {};
  }
  BeginBlock(buffer_, pcapng::kSectionHeader);
  Put32(buffer_, pcapng::kByteOrderMagic);
  Put16(buffer_, 1); // version 1.0
  Put16(buffer_, 0);
  // Section length -1: not known while streaming.
  Put64(buffer_, std::numeric_limits<std::uint64_t>::max());
  if (!options_.os.empty()) {
    PutOption(buffer_, pcapng::kShbOs, options_.os);
  }
  if (!options_.application.empty()) {
    PutOption(buffer_, pcapng::kShbUserAppl, options_.application);
  }
  if (!options_.os.empty() || !options_.application.empty()) {
    Put32(buffer_, pcapng::kOptEnd);
  }
  if (auto s = Emit(); !s) {
    return s;
  }
  header_written_ = true;
  if (options_.interfaces.empty()) {
    interfaces_.push_back(Interface{options_.ifindex, options_.ifindex != 0});
    return WriteInterfaceDescription(options_.interface_name, true);
  }
  // Several captured interfaces, all described up front in the order given:
  // their ids do not depend on which one's packet comes first.
  for (const PcapngInterface& i : options_.interfaces) {
    interfaces_.push_back(Interface{i.ifindex, true});
    if (auto s = WriteInterfaceDescription(i.name, interfaces_.size() == 1); !s) {
      return s;
    }
  }
  return {};
}

Status PcapngWriter::WriteInterfaceDescription(const std::string& name, bool first) {
  BeginBlock(buffer_, pcapng::kInterfaceDescription);
  // libpcap (1.10 and its master alike) reads the first interface's link
  // type as a DLT (LINKTYPE_RAW 101 -> DLT_RAW, 12 on Linux) and compares
  // every later interface's raw field with that, so a second interface of
  // type 101 stops tcpdump ("an interface has a type 101 different from the
  // type of the first interface"). Later interfaces carry 12, which libpcap
  // on Linux takes as DLT_RAW and Wireshark as raw IP, like 101.
  Put16(buffer_, static_cast<std::uint16_t>(first ? kLinkTypeRaw : pcapng::kLinkTypeRawDlt));
  Put16(buffer_, 0); // reserved
  Put32(buffer_, options_.snaplen);
  if (!name.empty()) {
    PutOption(buffer_, pcapng::kIfName, name);
  }
  if (!options_.description.empty()) {
    PutOption(buffer_, pcapng::kIfDescription, options_.description);
  }
  const std::uint8_t resolution = kNanosecondResolution;
  PutOption(buffer_, pcapng::kIfTsresol, std::span(&resolution, 1));
  if (!options_.filter.empty()) {
    // Filter type 0: the expression as text, as libpcap and dumpcap write it.
    Put16(buffer_, pcapng::kIfFilter);
    const std::string_view text = std::string_view(options_.filter).substr(0, 0xfff0);
    Put16(buffer_, static_cast<std::uint16_t>(1 + text.size()));
    buffer_.push_back(0);
    buffer_.insert(buffer_.end(), text.begin(), text.end());
    PutPadding(buffer_);
  }
  Put32(buffer_, pcapng::kOptEnd);
  return Emit();
}

Result<std::uint32_t> PcapngWriter::InterfaceFor(std::uint32_t ifindex) {
  for (std::size_t id = 0; id < interfaces_.size(); ++id) {
    Interface& i = interfaces_[id];
    if (!i.bound) {
      // The captured interface takes whatever index the first packet has.
      i.ifindex = ifindex;
      i.bound = true;
    }
    if (i.ifindex == ifindex) {
      return static_cast<std::uint32_t>(id);
    }
  }
  if (auto s = WriteInterfaceDescription("ifindex " + std::to_string(ifindex), false); !s) {
    return s.error();
  }
  interfaces_.push_back(Interface{ifindex, true});
  return static_cast<std::uint32_t>(interfaces_.size() - 1);
}

// The path nearly every packet takes: header written, the same interface as
// the packet before, no comments, room in the file buffer. Kept apart from
// the rest so it stays a small function with no Result to build.
Status PcapngWriter::WritePacket(const PacketRecord& packet) {
  if (header_written_) [[likely]] {
    const std::uint32_t id = last_id_;
    if (const Interface& last = interfaces_[id]; last.bound && last.ifindex == packet.ifindex)
        [[likely]] {
      if (!HasComments(packet)) [[likely]] {
        const EpbFields f = FieldsOf(packet, id, options_.snaplen);
        const std::uint32_t total = TotalOf(f);
        if (std::uint8_t* b = out_.Claim(total)) [[likely]] {
          Count(id, f.ns); // first: nothing but the copy stays live across it
          LayOutEpb<false>(b, total, f, packet.data.data(), {});
          return {};
        }
      } else if (WroteWithComments(packet, id)) {
        return {};
      }
    }
  }
  return WritePacketSlowly(packet);
}

// A WireGuard server's packets nearly all carry a peer: their own path,
// out of line so the ordinary packet's stays as small as it was.
bool PcapngWriter::WroteWithComments(const PacketRecord& packet, std::uint32_t id) noexcept {
  const EpbFields f = FieldsOf(packet, id, options_.snaplen);
  const EpbComments c = CommentsOf(packet, *peer_comments_);
  const std::uint32_t total = TotalOf(f, c);
  std::uint8_t* b = out_.Claim(total);
  if (b == nullptr) {
    return false;
  }
  Count(id, f.ns);
  LayOutEpb<true>(b, total, f, packet.data.data(), c);
  return true;
}

// Writes the headers first if needed, finds (or describes) the packet's
// interface, adds the comments of an attributed packet or a super-packet,
// and when the file buffer has no room lays the block out in epb_ and hands
// it to Write, which flushes or reports the failure.
Status PcapngWriter::WritePacketSlowly(const PacketRecord& packet) {
  if (auto header = WriteHeader(); !header) {
    return header;
  }
  auto id = InterfaceFor(packet.ifindex);
  if (!id) {
    return id.error();
  }
  // Packets come in runs from one interface: WritePacket checks this first.
  last_id_ = *id;
  const EpbFields f = FieldsOf(packet, *id, options_.snaplen);
  const EpbComments c = HasComments(packet) ? CommentsOf(packet, *peer_comments_) : EpbComments{};
  const std::uint32_t total = TotalOf(f, c);
  std::uint8_t* b = out_.Claim(total);
  if (b == nullptr) {
    b = epb_.get();
  }
  LayOutEpb<true>(b, total, f, packet.data.data(), c);
  if (b == epb_.get()) {
    if (auto s = out_.Write(std::span<const std::uint8_t>(b, total)); !s) {
      return s;
    }
  }
  Count(*id, f.ns);
  return {};
}

void PcapngWriter::Count(std::uint32_t id, std::uint64_t ns) noexcept {
  Interface& i = interfaces_[id];
  if (i.packets++ == 0) {
    i.first_ns = ns;
  }
  i.last_ns = ns;
}

// The block's start: interface id, when the counts were taken, and the
// times of the interface's first and last packet.
void PcapngWriter::PutTimes(std::uint32_t id) {
  const Interface& i = interfaces_[id];
  Put32(buffer_, id);
  PutTimestamp(buffer_, Unsigned(options_.now_ns != nullptr ? options_.now_ns() : RealtimeNs()));
  if (i.packets > 0) {
    Put16(buffer_, pcapng::kIsbStartTime);
    Put16(buffer_, 8);
    PutTimestamp(buffer_, i.first_ns);
    Put16(buffer_, pcapng::kIsbEndTime);
    Put16(buffer_, 8);
    PutTimestamp(buffer_, i.last_ns);
  }
}

// The block's end: the packets written for the interface.
Status PcapngWriter::EndStatistics(const Interface& i) {
  PutOption64(buffer_, pcapng::kIsbUsrDeliv, i.packets);
  Put32(buffer_, pcapng::kOptEnd);
  return Emit();
}

Status PcapngWriter::WriteStatistics(std::uint32_t id, const Stats* stats) {
  const Interface& i = interfaces_[id];
  BeginBlock(buffer_, pcapng::kInterfaceStatistics);
  PutTimes(id);
  if (stats != nullptr) {
    // AF_PACKET counts no kernel_seen and a file has no kernel at all; then
    // what the session was offered is the best count of packets seen.
    PutOption64(buffer_, pcapng::kIsbIfRecv,
                stats->kernel_seen != 0 ? stats->kernel_seen : stats->received);
    PutOption64(buffer_, pcapng::kIsbIfDrop, stats->kernel_drops + stats->kernel_ring_drops);
    PutOption64(buffer_, pcapng::kIsbFilterAccept,
                stats->kernel_matched != 0 ? stats->kernel_matched : stats->matched);
    PutOption64(buffer_, pcapng::kIsbOsDrop, stats->dropped);
  }
  return EndStatistics(i);
}

// One of several captured interfaces: its own kernel's counts. What the
// session counted (offered, matched, queue drops) is not split by
// interface, so isb_ifrecv is left out where the backend saw no count of its
// own (AF_PACKET) rather than filled with another interface's packets.
// `session_drops` (Stats::dropped, packets the session's queue lost, of any
// interface) goes on the first interface only, so that a reader summing
// isb_osdrop over the blocks finds each loss once.
Status PcapngWriter::WriteOwnStatistics(std::uint32_t id, const KernelCounters* counters,
                                        std::optional<std::int64_t> session_drops) {
  const Interface& i = interfaces_[id];
  BeginBlock(buffer_, pcapng::kInterfaceStatistics);
  PutTimes(id);
  if (counters != nullptr) {
    if (counters->seen != 0) {
      PutOption64(buffer_, pcapng::kIsbIfRecv, counters->seen);
    }
    PutOption64(buffer_, pcapng::kIsbIfDrop, counters->drops + counters->ring_drops);
    PutOption64(buffer_, pcapng::kIsbFilterAccept, counters->matched);
  }
  if (session_drops) {
    PutOption64(buffer_, pcapng::kIsbOsDrop, *session_drops);
  }
  return EndStatistics(i);
}

Status PcapngWriter::Finish(const Stats& stats) {
  if (finished_) {
    return {};
  }
  if (auto header = WriteHeader(); !header) {
    return header;
  }
  for (std::uint32_t id = 0; id < interfaces_.size(); ++id) {
    Status s;
    if (options_.interfaces.empty()) {
      // The counters describe the whole capture, which is one interface;
      // others (packets from another ifindex) only get what this writer
      // knows of them.
      s = WriteStatistics(id, id == 0 ? &stats : nullptr);
    } else {
      const auto own = std::find_if(
          stats.interfaces.begin(), stats.interfaces.end(),
          [&](const InterfaceCounters& c) { return c.ifindex == interfaces_[id].ifindex; });
      // The session's queue drops are the whole capture's: on the first
      // interface's block, the one place a reader looks for them.
      s = WriteOwnStatistics(id, own != stats.interfaces.end() ? &own->kernel : nullptr,
                             id == 0 ? std::optional<std::int64_t>(stats.dropped) : std::nullopt);
    }
    if (!s) {
      return s;
    }
  }
  finished_ = true;
  return {};
}

Status PcapngWriter::Flush() {
  return out_.Flush();
}

} // namespace wgcap
