// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * wgcap's TC program. This first version only counts the packets it sees per
 * direction and returns the continue verdict, so the BPF toolchain (clang,
 * bpftool skeleton, loading, BPF_PROG_TEST_RUN) is exercised from day one.
 * The filter and the ring-buffer samples arrive with the TC backend.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "wgcap/abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WGCAP_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wgcap_counters SEC(".maps");

static __always_inline void count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&wgcap_counters, &index);

	if (value)
		*value += 1;
}

SEC("tc")
int wgcap_ingress(struct __sk_buff *skb)
{
	count(WGCAP_COUNTER_SEEN);
	return TC_ACT_UNSPEC; /* continue: never change the packet's fate */
}

SEC("tc")
int wgcap_egress(struct __sk_buff *skb)
{
	count(WGCAP_COUNTER_SEEN);
	return TC_ACT_UNSPEC;
}
