// SPDX-License-Identifier: Apache-2.0
// SPEC 10's comments on an enhanced packet block: `peer=KEY` for a packet
// attributed to a WireGuard peer and `gso=SEGSxSIZE` for a super-packet,
// each an opt_comment. PcapngWriter sizes them first (CommentsOf), then lays
// them out in the block (PutComments).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wgcap/packet_sink.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {

// pcapng pads every field to 4 bytes.
inline std::size_t Padded(std::size_t n) noexcept {
  return (n + 3) & ~std::size_t{3};
}

// "peer=" and 44 characters (49, padded to 52), and "gso=SEGSxSIZE" (at most
// 15 characters, padded to 16), each behind a 4-byte option header.
inline constexpr std::size_t kPeerCommentBytes = 4 + 52;
inline constexpr std::size_t kGsoTextMax = 16;
inline constexpr std::size_t kMaxCommentBytes = kPeerCommentBytes + 4 + kGsoTextMax;

// SPEC 10's opt_comments of one packet. Kept apart from the EPB's other
// fields so the ordinary packet's path stays as it was: measurably slower
// when it carried these too (bench/writer_bench.cpp, BM_PcapngWriter).
struct EpbComments {
  std::uint32_t bytes = 0;                   // of the options
  const std::uint8_t* peer_option = nullptr; // kPeerCommentBytes, ready to copy
  std::uint16_t gso_segs = 0, gso_size = 0;
};

inline bool HasComments(const PacketRecord& packet) noexcept {
  return packet.peer != nullptr || packet.gso_segs != 0;
}

// On a server nearly every packet is attributed, to one of a few peers:
// their options are encoded once and copied after, which keeps an
// attributed packet close to an ordinary one. Slots are picked by the key's
// first byte (keys are random) and checked against the whole key, so a
// collision only costs an encoding.
struct PcapngWriter::PeerComments {
  static constexpr std::size_t kSlots = 64;
  struct Slot {
    bool used = false;
    PeerKey key{};
    std::uint8_t option[kPeerCommentBytes];
  };
  Slot slots[kSlots];

  const std::uint8_t* OptionFor(const PeerKey& key) noexcept;
};

// The comments of an attributed packet or a super-packet, sized.
EpbComments CommentsOf(const PacketRecord& packet, PcapngWriter::PeerComments& peers) noexcept;
// Writes `c`'s options at `b`; returns the byte after them.
std::uint8_t* PutComments(std::uint8_t* b, const EpbComments& c) noexcept;

} // namespace wgcap
