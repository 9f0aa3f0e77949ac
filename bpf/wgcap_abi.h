/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one kernel/userspace ABI of wgcap: included by bpf/ *.bpf.c and by C++.
 * Fixed-width fields only; userspace static_asserts sizes and offsets.
 */
/* Shared with the C++ side: keeps the userspace layout (/.clang-format),
 * not bpf/'s kernel style. */
/* clang-format off */
#ifndef WGCAP_ABI_H
#define WGCAP_ABI_H

#include <linux/types.h>

#define WGCAP_DIR_IN 0
#define WGCAP_DIR_OUT 1

/* Per-CPU counters, indices into the wgcap_counters map. */
enum wgcap_counter {
  WGCAP_COUNTER_SEEN = 0,
  WGCAP_COUNTER_MATCHED = 1,
  WGCAP_COUNTER_RING_FULL = 2,
  WGCAP_COUNTER_MAX = 3,
};

/* Header of one ring-buffer sample; captured_length bytes follow. */
struct wgcap_sample_header {
  __u64 timestamp_ns; /* CLOCK_BOOTTIME; userspace converts to wall clock */
  __u32 ifindex;
  __u32 original_length; /* network-layer packet length */
  __u32 captured_length; /* bytes that follow this header */
  __u8 direction;        /* WGCAP_DIR_IN / WGCAP_DIR_OUT */
  __u8 reserved;
  __u16 gso_segs; /* GSO/GRO super-packet: segments (skb->gso_segs), else 0 */
  __u16 gso_size; /* payload bytes per segment (skb->gso_size), else 0 */
  __u16 reserved2;
};

/*
 * The peers' allowed-ips (SPEC 10), mirrored from userspace's PeerDirectory
 * into the LPM trie map wgcap_peers: the key is the interface and the
 * address (IPv4 as ::ffff:a.b.c.d), prefixlen counting the ifindex's 32 bits
 * too; the value is the peer's 32-byte public key. `peer KEY` in the
 * generated filter looks the packet's inner address up (source on ingress,
 * destination on egress) and compares the key.
 */
struct wgcap_peer_lpm_key {
  __u32 prefixlen; /* 32 + 96 + IPv4 length, or 32 + IPv6 length */
  /* The interface, WGCAP_PEER_LPM_IPV4 set for an IPv4 prefix: WireGuard
   * keeps the families apart, so an IPv6 packet from ::ffff:192.0.2.1 must
   * not take the route of 192.0.2.0/24 (ifindexes are positive ints). */
  __u32 ifindex;
  __u8 addr[16];
};
struct wgcap_peer_lpm_value {
  __u8 key[32];
};
#define WGCAP_PEER_MAP_ENTRIES 65536
#define WGCAP_PEER_LPM_IPV4 0x80000000u

/* How a sample reaches the ring (chosen by userspace at load). */
enum wgcap_sample_mode {
  /* bpf_ringbuf_reserve of a size class, packet bytes loaded straight in
   * (variable-length loads into ring memory need kernel 6.8+) */
  WGCAP_SAMPLE_RESERVE = 0,
  /* copy into a per-CPU scratch buffer, then bpf_ringbuf_output */
  WGCAP_SAMPLE_OUTPUT = 1,
};

#define WGCAP_MAX_SNAPLEN 262144

/*
 * The generated filter program (userspace/filter/ebpf_filter.hpp) and the
 * clang-built sample programs meet here: on a match the filter stores the
 * bytes its verdict read in skb->cb[WGCAP_CB_EXTENT] and tail-calls slot
 * WGCAP_PROG_SAMPLE_IN or WGCAP_PROG_SAMPLE_OUT of wgcap_sample_programs.
 */
#define WGCAP_CB_EXTENT 0
#define WGCAP_PROG_SAMPLE_IN 0
#define WGCAP_PROG_SAMPLE_OUT 1

#endif /* WGCAP_ABI_H */
/* clang-format on */
