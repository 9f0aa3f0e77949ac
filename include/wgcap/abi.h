/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one kernel/userspace ABI of wgcap: included by bpf/ *.bpf.c and by C++.
 * Fixed-width fields only; userspace static_asserts sizes and offsets.
 */
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
  __u64 timestamp_ns; /* wall clock, ns since the Unix epoch */
  __u32 ifindex;
  __u32 original_length; /* network-layer packet length */
  __u32 captured_length; /* bytes that follow this header */
  __u8 direction;        /* WGCAP_DIR_IN / WGCAP_DIR_OUT */
  __u8 reserved[3];
};

#endif /* WGCAP_ABI_H */
