// SPDX-License-Identifier: Apache-2.0
#include "file/pcapng_comments.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <string_view>

#include "base/little_endian.hpp"
#include "base/peer_key_text.hpp"

namespace wgcap {
namespace {

constexpr std::string_view kPeerPrefix = "peer=";

// "gso=SEGSxSIZE" into `out`; returns its length.
std::size_t GsoText(char (&out)[kGsoTextMax], std::uint16_t segs, std::uint16_t size) noexcept {
  char* at = std::copy_n("gso=", 4, out);
  at = std::to_chars(at, std::end(out), segs).ptr;
  *at++ = 'x';
  at = std::to_chars(at, std::end(out), size).ptr;
  return static_cast<std::size_t>(at - out);
}

// Writes one opt_comment at `b` (zero-padded); returns the byte after it.
std::uint8_t* PutComment(std::uint8_t* b, const char* text, std::size_t length) noexcept {
  PutLe16(b, pcapng::kOptComment);
  PutLe16(b + 2, static_cast<std::uint16_t>(length));
  PutLe32(b + 4 + Padded(length) - 4, 0);
  std::memcpy(b + 4, text, length);
  return b + 4 + Padded(length);
}

} // namespace

const std::uint8_t* PcapngWriter::PeerComments::OptionFor(const PeerKey& key) noexcept {
  Slot& slot = slots[key[0] % kSlots];
  if (!slot.used || slot.key != key) [[unlikely]] {
    char text[kPeerPrefix.size() + kPeerKeyTextSize];
    std::memcpy(text, kPeerPrefix.data(), kPeerPrefix.size());
    const PeerKeyText encoded = PeerKeyToText(key);
    std::memcpy(text + kPeerPrefix.size(), encoded.data(), encoded.size());
    PutComment(slot.option, text, sizeof text);
    slot.key = key;
    slot.used = true;
  }
  return slot.option;
}

EpbComments CommentsOf(const PacketRecord& packet, PcapngWriter::PeerComments& peers) noexcept {
  EpbComments c;
  if (packet.peer != nullptr) {
    c.peer_option = peers.OptionFor(*packet.peer);
    c.bytes += kPeerCommentBytes;
  }
  if (packet.gso_segs != 0) {
    char text[kGsoTextMax];
    c.gso_segs = packet.gso_segs;
    c.gso_size = packet.gso_size;
    c.bytes += static_cast<std::uint32_t>(4 + Padded(GsoText(text, c.gso_segs, c.gso_size)));
  }
  return c;
}

std::uint8_t* PutComments(std::uint8_t* b, const EpbComments& c) noexcept {
  if (c.peer_option != nullptr) {
    std::memcpy(b, c.peer_option, kPeerCommentBytes);
    b += kPeerCommentBytes;
  }
  if (c.gso_segs != 0) {
    char text[kGsoTextMax];
    b = PutComment(b, text, GsoText(text, c.gso_segs, c.gso_size));
  }
  return b;
}

} // namespace wgcap
