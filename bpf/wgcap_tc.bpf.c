// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * wgcap's sample programs: the generated filter program (userspace/filter/
 * ebpf_filter.hpp), attached to the hook, counts each packet, decides, and on
 * a match stores in skb->cb[WGCAP_CB_EXTENT] the network-layer bytes its
 * verdict read and tail-calls slot WGCAP_PROG_SAMPLE_IN or _OUT of
 * wgcap_sample_programs. These programs copy the packet into the BPF ring
 * buffer. They never change a packet's fate: every path returns
 * TC_ACT_UNSPEC (TCX_NEXT on tcx), so the stack and other TC programs
 * proceed as before. See bpf/README.md.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "wgcap_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace before load; the verifier sees them as constants. */
const volatile __u8 wgcap_sample_mode = WGCAP_SAMPLE_RESERVE;
const volatile __u32 wgcap_snaplen = 65535;
const volatile __u32 wgcap_link_header = 0; /* 14 on Ethernet, 0 on L3 devices */
/* Bytes waiting in the ring past which a sample wakes the consumer (0: every
 * sample does). Below it samples are submitted without a wakeup: the
 * consumer polls with a short timeout instead, so a busy ring costs one
 * wakeup per batch rather than one per packet. */
const volatile __u64 wgcap_wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WGCAP_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wgcap_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* userspace sets it from -B */
} wgcap_samples SEC(".maps");

struct wgcap_scratch {
	struct wgcap_sample_header header;
	__u8 data[WGCAP_MAX_SNAPLEN];
};

/* WGCAP_SAMPLE_OUTPUT only: one buffer per CPU (indexed by CPU id; too big
 * for a per-CPU map). Userspace sizes it to 1 entry in the other mode. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wgcap_scratch);
} wgcap_scratch SEC(".maps");

/* Where the generated filter program jumps on a match; userspace puts
 * wgcap_sample_in and wgcap_sample_out in the slots after load. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} wgcap_sample_programs SEC(".maps");

/* The peers' allowed-ips (SPEC 10), written by userspace from its
 * PeerDirectory; only the generated filter's `peer` terms look in it. Defined
 * here so the skeleton creates it with the other maps (libbpf creates every
 * map of the object, referenced or not; userspace hands the generated filter
 * the same map through bpf_map__reuse_fd). BPF_F_NO_PREALLOC, which an LPM
 * trie requires anyway: empty, it holds no memory. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WGCAP_PEER_MAP_ENTRIES);
	__type(key, struct wgcap_peer_lpm_key);
	__type(value, struct wgcap_peer_lpm_value);
} wgcap_peers SEC(".maps");

struct packet {
	__u32 length; /* network-layer length */
};

static __always_inline void count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&wgcap_counters, &index);

	if (value)
		*value += 1;
}

/* The flags for committing a record of at most `footprint` ring bytes when
 * `avail` bytes (this record included) wait in the ring: a forced wakeup
 * only for the record that takes the backlog past a multiple of the
 * threshold, not for every record above it (each forced wakeup queues an
 * irq_work, an interrupt on this CPU, even while the consumer is awake and
 * draining). A crossing missed because another CPU's record landed in
 * between is caught at the next multiple, or by the consumer's short poll
 * timeout. */
static __always_inline __u64 wakeup_flags(__u64 avail, __u64 footprint)
{
	__u64 threshold = wgcap_wakeup_bytes;

	if (!threshold)
		return 0;
	if (avail >= threshold && avail / threshold != (avail - footprint) / threshold)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* A record's ring footprint is its size plus an 8-byte header, rounded up
 * to 8; this bound is at most one record too generous. */
#define WGCAP_FOOTPRINT(size) ((__u64)(size) + 16)

static __always_inline void fill_header(struct wgcap_sample_header *h, struct __sk_buff *skb,
					const struct packet *p, __u32 caplen, __u8 direction)
{
	h->timestamp_ns = bpf_ktime_get_boot_ns();
	h->ifindex = skb->ifindex;
	h->original_length = p->length;
	h->captured_length = caplen;
	h->direction = direction;
	h->reserved = 0;
	/* A GSO/GRO super-packet is one skb of many segments (SPEC 10): its
	 * shared info says how many and how big, so a length past the MTU is
	 * explained. gso_segs since 5.1, gso_size since 5.7; plain ctx reads
	 * that need no capability beyond CAP_BPF. gso_size is what makes an
	 * skb GSO (skb_is_gso); gso_segs alone can be stale on an ordinary
	 * one. gso_segs is 0 where the stack has not counted yet (a packet
	 * injected through TUN with a virtio_net_hdr): userspace derives it. */
	__u32 gso_size = skb->gso_size;

	h->gso_size = gso_size;
	h->gso_segs = gso_size ? skb->gso_segs : 0;
	h->reserved2 = 0;
}

/* The copy length, clamped where the verifier can see it. 64-bit on
 * purpose: with a 32-bit value the compiler tests a zero-extended copy of the
 * register and the verifier never learns the bound of the one passed on. */
static __always_inline __u64 bounded(__u64 n, __u64 max)
{
	asm volatile("" : "+r"(n));
	if (n > max)
		n = max;
	return n;
}

/* The copy length for n in [1, max] (max a power of two): n itself, computed
 * so that every verifier sees it within [1, max] on every path it walks.
 * Two 6.1 limits make a compare-and-use fail there: "n != 0" teaches it no
 * lower bound (bpf_skb_load_bytes refuses a length that may be 0), and
 * without CAP_PERFMON it also walks the mispredicted side of each branch it
 * can decide (Spectre v1) with the compared registers unknown (later kernels
 * fence that side instead). A mask bounds on every path; the barrier keeps
 * the compiler from seeing that it changes nothing. */
static __always_inline __u64 copy_length(__u64 n, __u64 max)
{
	__u64 last = n - 1;

	asm volatile("" : "+r"(last));
	return (last & (max - 1)) + 1;
}

_Static_assert((WGCAP_MAX_SNAPLEN & (WGCAP_MAX_SNAPLEN - 1)) == 0,
	       "copy_length needs a power of two");

/* A reserved record is in the ring's backlog already. */
static __always_inline void submit(void *s, __u64 size)
{
	__u64 avail = bpf_ringbuf_query(&wgcap_samples, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(s, wakeup_flags(avail, WGCAP_FOOTPRINT(size)));
}

/* Reserve the smallest size class that holds the sample: a ring record per
 * class size keeps small packets from taking snaplen bytes of ring each. */
#define WGCAP_TRY_CLASS(size)                                                                      \
	if (caplen <= (size)) {                                                                    \
		struct {                                                                           \
			struct wgcap_sample_header h;                                              \
			__u8 data[size];                                                           \
		} *s = bpf_ringbuf_reserve(&wgcap_samples, sizeof(*s), 0);                         \
		if (!s)                                                                            \
			return -1;                                                                 \
		__u64 n = bounded(caplen, (size));                                                 \
		fill_header(&s->h, skb, p, n, direction);                                          \
		if (n &&                                                                           \
		    bpf_skb_load_bytes(skb, wgcap_link_header, s->data, copy_length(n, (size)))) { \
			bpf_ringbuf_discard(s, BPF_RB_NO_WAKEUP);                                  \
			return 0;                                                                  \
		}                                                                                  \
		submit(s, sizeof(*s));                                                             \
		return 0;                                                                          \
	}

static __always_inline int sample_reserve(struct __sk_buff *skb, const struct packet *p,
					  __u32 caplen, __u8 direction)
{
	WGCAP_TRY_CLASS(128)
	WGCAP_TRY_CLASS(256)
	WGCAP_TRY_CLASS(512)
	WGCAP_TRY_CLASS(1024)
	WGCAP_TRY_CLASS(2048)
	WGCAP_TRY_CLASS(4096)
	WGCAP_TRY_CLASS(8192)
	WGCAP_TRY_CLASS(16384)
	WGCAP_TRY_CLASS(32768)
	WGCAP_TRY_CLASS(65536)
	WGCAP_TRY_CLASS(131072)
	WGCAP_TRY_CLASS(WGCAP_MAX_SNAPLEN)
	return 0;
}

static __always_inline int sample_output(struct __sk_buff *skb, const struct packet *p,
					 __u32 caplen, __u8 direction)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct wgcap_scratch *s = bpf_map_lookup_elem(&wgcap_scratch, &cpu);

	if (!s)
		return 0;
	__u64 n = bounded(caplen, WGCAP_MAX_SNAPLEN);

	fill_header(&s->header, skb, p, n, direction);
	/* The record's size from the copy length too (see copy_length). */
	__u64 size = sizeof(s->header);

	if (n) {
		__u64 len = copy_length(n, WGCAP_MAX_SNAPLEN);

		if (bpf_skb_load_bytes(skb, wgcap_link_header, s->data, len))
			return 0;
		size += len;
	}
	/* Not in the ring yet: the backlog after it is the current one plus it. */
	__u64 avail = bpf_ringbuf_query(&wgcap_samples, BPF_RB_AVAIL_DATA) + WGCAP_FOOTPRINT(size);

	if (bpf_ringbuf_output(&wgcap_samples, s, size, wakeup_flags(avail, WGCAP_FOOTPRINT(size))))
		return -1;
	return 0;
}

/* The generated filter matched: keep max(snaplen, the bytes its verdict
 * read), so userspace's Matcher decides on the same bytes; the Session trims
 * to snaplen again. */
static __always_inline int sample(struct __sk_buff *skb, __u8 direction)
{
	struct packet p = {};
	__u32 extent = skb->cb[WGCAP_CB_EXTENT];
	__u32 caplen;

	count(WGCAP_COUNTER_MATCHED);
	if (skb->len > wgcap_link_header)
		p.length = skb->len - wgcap_link_header;
	caplen = wgcap_snaplen > extent ? wgcap_snaplen : extent;
	if (caplen > p.length)
		caplen = p.length;
	if (caplen > WGCAP_MAX_SNAPLEN)
		caplen = WGCAP_MAX_SNAPLEN;
	if ((wgcap_sample_mode == WGCAP_SAMPLE_OUTPUT
		 ? sample_output(skb, &p, caplen, direction)
		 : sample_reserve(skb, &p, caplen, direction)) < 0)
		count(WGCAP_COUNTER_RING_FULL);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int wgcap_sample_in(struct __sk_buff *skb)
{
	return sample(skb, WGCAP_DIR_IN);
}

SEC("tc")
int wgcap_sample_out(struct __sk_buff *skb)
{
	return sample(skb, WGCAP_DIR_OUT);
}
