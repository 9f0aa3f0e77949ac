// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * wgcap's TC program: parse the network-layer packet once (SPEC section 1,
 * rule for rule as userspace/packet_parse.cpp), run the filter's decision
 * graph from read-only data, and copy each match into a BPF ring buffer.
 * It never changes a packet's fate: every path returns TC_ACT_UNSPEC
 * (TCX_NEXT on tcx), so the stack and other TC programs proceed as before.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "wgcap_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace before load; the verifier sees them as constants. */
const volatile __u32 wgcap_node_count = 0;
const volatile __u8 wgcap_pass_all = 1;
const volatile __u8 wgcap_needs_transport = 0;
const volatile __u8 wgcap_needs_chain = 0; /* extension bits, the IPv4 AH walk */
const volatile __u8 wgcap_sample_mode = WGCAP_SAMPLE_RESERVE;
const volatile __u32 wgcap_snaplen = 65535;
const volatile __u32 wgcap_link_header = 0;  /* 14 on Ethernet, 0 on L3 devices */
const volatile __u8 wgcap_direct_access = 1; /* 0: the tests' helper-only variant */
const volatile struct wgcap_filter_node wgcap_nodes[WGCAP_FILTER_MAX_NODES];

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

struct parsed {
	__u32 src[4];
	__u32 dst[4];
	__u32 length;	  /* network-layer length */
	__u32 header_end; /* bytes the verdict read: a sample keeps at least these */
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 has_protocol;
	__u8 protocol;
	__u8 has_ports;
	__u8 extensions;     /* wgcap_needs_chain: ExtensionHeaderBit of each type read */
	__u8 chain_protocol; /* the chain's last Next Header (IPv4: past AH) */
};

static __always_inline void count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&wgcap_counters, &index);

	if (value)
		*value += 1;
}

/* len header bytes at off (from the network header) into dst: read from the
 * skb's linear data where it holds them, which costs a bounds check instead
 * of a helper call, else (a non-linear skb, or wgcap_direct_access 0, which
 * the kernel tests use to run this path on BPF_PROG_TEST_RUN's linear skbs)
 * with bpf_skb_load_bytes. len is a constant at every call. */
static __always_inline int load_bytes(struct __sk_buff *skb, __u32 off, void *dst, __u32 len)
{
	if (wgcap_direct_access) {
		void *data = (void *)(long)skb->data;
		void *end = (void *)(long)skb->data_end;
		__u64 at = (__u64)wgcap_link_header + off;

		/* The bound lets the verifier add a variable offset to a packet
		 * pointer. */
		if (at <= 0xffff && data + at + len <= end) {
			__builtin_memcpy(dst, data + at, len);
			return 0;
		}
	}
	return bpf_skb_load_bytes(skb, wgcap_link_header + off, dst, len);
}

static __always_inline int has_ports(__u8 protocol)
{
	return protocol == 6 || protocol == 17 || protocol == 132;
}

static __always_inline int is_extension(__u8 next)
{
	return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
}

/* A constant the compiler cannot see through: (C >> x) & 1 would otherwise
 * become x == log2(C), a branch. */
static __always_inline __u64 opaque(__u64 c)
{
	asm volatile("" : "+r"(c));
	return c;
}

/* ExtensionHeaderBit of include/wgcap/packet_parse.hpp, without a branch.
 * The five types are below 64: bit `type` of `kinds` says whether it is one,
 * and three bit planes hold its bit's index (0 -> 0, 43 -> 1, 44 -> 2,
 * 60 -> 3, 51 -> 4). To the verifier the result stays an unknown scalar, so
 * the paths through the IPv6 walk still prune against each other. A constant
 * per path (a switch after is_extension) made each set of headers a state of
 * its own, and a table read at a variable offset costs a speculative path
 * per read without CAP_PERFMON: both ran out of the 1M instructions. */
static __always_inline __u64 extension_bit(__u8 type)
{
	__u64 t = type;
	__u64 low = t & 63;
	__u64 below_64 = (((t >> 6) + 3) >> 2) - 1; /* all ones when t < 64, else 0 */
	__u64 is =
	    (opaque((1ULL << 0) | (1ULL << 43) | (1ULL << 44) | (1ULL << 51) | (1ULL << 60)) >>
	     low) &
	    below_64 & 1;
	__u64 index = ((opaque((1ULL << 43) | (1ULL << 60)) >> low) & 1) |
		      (((opaque((1ULL << 44) | (1ULL << 60)) >> low) & 1) << 1) |
		      (((opaque(1ULL << 51) >> low) & 1) << 2);

	return is << index;
}

/* packet_parse.cpp's WalkIpv4Ah: AH headers behind the IPv4 header, at most
 * 8, for protochain only (protocol and ports stay the IPv4 header's). */
static __always_inline void walk_ipv4_ah(struct __sk_buff *skb, struct parsed *p, __u32 offset)
{
	__u8 next = p->protocol;
	__u8 h[2];

	p->chain_protocol = next;
	if (next != 51)
		return;
	p->extensions = 1 << 4; /* ExtensionHeaderBit(51) */
#pragma unroll
	for (int i = 0; i < 8; i++) {
		if (offset + 2 > p->length ||
		    bpf_skb_load_bytes(skb, wgcap_link_header + offset, h, 2))
			return;
		offset += (h[1] + 2) * 4;
		p->chain_protocol = h[0];
		p->header_end = offset < p->length ? offset : p->length;
		if (h[0] != 51)
			return;
	}
}

static __always_inline void read_ports(struct __sk_buff *skb, struct parsed *p, __u32 offset)
{
	__u16 ports[2];

	if (!has_ports(p->protocol) || offset + 4 > p->length)
		return;
	if (load_bytes(skb, offset, ports, sizeof(ports)))
		return;
	p->has_ports = 1;
	p->sport = bpf_ntohs(ports[0]);
	p->dport = bpf_ntohs(ports[1]);
	p->header_end = offset + 4;
}

static __always_inline void parse_ipv4(struct __sk_buff *skb, struct parsed *p, __u8 first)
{
	struct iphdr ip;
	__u32 header_length = (first & 0x0f) * 4;

	if (p->length < 20 || header_length < 20 || header_length > p->length)
		return;
	if (load_bytes(skb, 0, &ip, sizeof(ip)))
		return;
	p->family = 4;
	p->src[0] = ip.saddr;
	p->dst[0] = ip.daddr;
	p->header_end = header_length;
	if (!wgcap_needs_transport)
		return;
	p->has_protocol = 1;
	p->protocol = ip.protocol;
	p->chain_protocol = ip.protocol;
	if (bpf_ntohs(ip.frag_off) & 0x1fff)
		return; /* a later fragment has no ports, nor a chain to walk */
	if (wgcap_needs_chain)
		walk_ipv4_ah(skb, p, header_length);
	read_ports(skb, p, header_length);
}

static __always_inline void parse_ipv6(struct __sk_buff *skb, struct parsed *p)
{
	struct ipv6hdr ip;
	__u32 offset = 40;
	__u8 next;
	__u8 h[8];

	if (p->length < 40)
		return;
	if (load_bytes(skb, 0, &ip, sizeof(ip)))
		return;
	p->family = 6;
	__builtin_memcpy(p->src, &ip.saddr, 16);
	__builtin_memcpy(p->dst, &ip.daddr, 16);
	p->header_end = 40;
	if (!wgcap_needs_transport)
		return;
	p->has_protocol = 1;
	next = ip.nexthdr;
#pragma unroll
	for (int i = 0; i < 8; i++) {
		/* Before is_extension() teaches the verifier what next is. */
		if (wgcap_needs_chain)
			p->extensions |= extension_bit(next);
		if (!is_extension(next))
			goto done;
		/* The header's fixed part not in the packet: the walk cannot
		 * finish; the protocol is the last Next Header read. */
		if (next == 44) {
			if (offset + 8 > p->length ||
			    bpf_skb_load_bytes(skb, wgcap_link_header + offset, h, 8)) {
				p->protocol = next;
				return;
			}
			if (bpf_ntohs(*(__u16 *)&h[2]) & 0xfff8) {
				/* A later fragment carries payload, not headers. */
				p->protocol = h[0];
				return;
			}
			offset += 8;
		} else {
			if (offset + 2 > p->length ||
			    bpf_skb_load_bytes(skb, wgcap_link_header + offset, h, 2)) {
				p->protocol = next;
				return;
			}
			offset += next == 51 ? (h[1] + 2) * 4 : (h[1] + 1) * 8;
		}
		next = h[0];
		p->header_end = offset < p->length ? offset : p->length;
	}
	if (is_extension(next)) {
		p->protocol = next; /* more than 8 extension headers */
		return;
	}
done:
	p->protocol = next;
	read_ports(skb, p, offset);
}

static __always_inline void parse(struct __sk_buff *skb, struct parsed *p)
{
	__u8 first;

	if (skb->len <= wgcap_link_header)
		return;
	p->length = skb->len - wgcap_link_header;
	if (load_bytes(skb, 0, &first, 1))
		return;
	if ((first >> 4) == 4) {
		parse_ipv4(skb, p, first);
	} else if ((first >> 4) == 6) {
		parse_ipv6(skb, p);
		p->chain_protocol = p->protocol;
	}
}

static __always_inline int address_in(const __u32 *a, const volatile struct wgcap_filter_node *n)
{
	if (n->family == 4)
		return (a[0] & n->mask[0]) == n->addr[0];
	return (a[0] & n->mask[0]) == n->addr[0] && (a[1] & n->mask[1]) == n->addr[1] &&
	       (a[2] & n->mask[2]) == n->addr[2] && (a[3] & n->mask[3]) == n->addr[3];
}

static __always_inline int port_in(__u16 port, const volatile struct wgcap_filter_node *n)
{
	return port >= n->port_low && port <= n->port_high;
}

static __always_inline int eval_node(const volatile struct wgcap_filter_node *n,
				     const struct parsed *p)
{
	switch (n->kind) {
	case WGCAP_NODE_FAMILY:
		return p->family == n->family;
	case WGCAP_NODE_PROTOCOL:
		return p->has_protocol &&
		       (p->protocol == n->protocol || (p->extensions & n->extension));
	case WGCAP_NODE_PROTOCHAIN:
		return p->has_protocol &&
		       (p->chain_protocol == n->protocol || (p->extensions & n->extension));
	case WGCAP_NODE_PORT:
		if (!p->has_ports)
			return 0;
		if (n->endpoint == WGCAP_ENDPOINT_SRC)
			return port_in(p->sport, n);
		if (n->endpoint == WGCAP_ENDPOINT_DST)
			return port_in(p->dport, n);
		return port_in(p->sport, n) || port_in(p->dport, n);
	case WGCAP_NODE_ADDRESS:
		if (p->family != n->family)
			return 0;
		if (n->endpoint == WGCAP_ENDPOINT_SRC)
			return address_in(p->src, n);
		if (n->endpoint == WGCAP_ENDPOINT_DST)
			return address_in(p->dst, n);
		return address_in(p->src, n) || address_in(p->dst, n);
	case WGCAP_NODE_LESS:
		return p->length <= n->length;
	case WGCAP_NODE_GREATER:
		return p->length >= n->length;
	}
	return 0;
}

/* Node i runs only when the graph reached it; jumps go forward, so one pass
 * in index order visits every node a packet's path needs. The node count and
 * every node are load-time constants: the verifier drops the rest. */
static __always_inline int run_filter(const struct parsed *p)
{
	__u32 pc = 0;

#pragma unroll
	for (int i = 0; i < WGCAP_FILTER_MAX_NODES; i++) {
		if (i >= wgcap_node_count)
			break;
		if (pc == i)
			pc = eval_node(&wgcap_nodes[i], p) ? wgcap_nodes[i].jt : wgcap_nodes[i].jf;
	}
	return pc == WGCAP_TARGET_ACCEPT;
}

static __always_inline void fill_header(struct wgcap_sample_header *h, struct __sk_buff *skb,
					const struct parsed *p, __u32 caplen, __u8 direction)
{
	h->timestamp_ns = bpf_ktime_get_boot_ns();
	h->ifindex = skb->ifindex;
	h->original_length = p->length;
	h->captured_length = caplen;
	h->direction = direction;
	h->reserved[0] = h->reserved[1] = h->reserved[2] = 0;
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
			bpf_ringbuf_discard(s, 0);                                                 \
			return 0;                                                                  \
		}                                                                                  \
		bpf_ringbuf_submit(s, 0);                                                          \
		return 0;                                                                          \
	}

static __always_inline int sample_reserve(struct __sk_buff *skb, const struct parsed *p,
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

static __always_inline int sample_output(struct __sk_buff *skb, const struct parsed *p,
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
	if (bpf_ringbuf_output(&wgcap_samples, s, size, 0))
		return -1;
	return 0;
}

static __always_inline int capture(struct __sk_buff *skb, __u8 direction)
{
	struct parsed p = {};
	__u32 caplen;

	count(WGCAP_COUNTER_SEEN);
	parse(skb, &p);
	if (!wgcap_pass_all && !run_filter(&p))
		return TC_ACT_UNSPEC;
	count(WGCAP_COUNTER_MATCHED);

	/* At least the headers the verdict read, so userspace's Matcher decides
	 * on the same bytes; the Session trims to snaplen again. */
	caplen = wgcap_snaplen > p.header_end ? wgcap_snaplen : p.header_end;
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
int wgcap_ingress(struct __sk_buff *skb)
{
	return capture(skb, WGCAP_DIR_IN);
}

SEC("tc")
int wgcap_egress(struct __sk_buff *skb)
{
	return capture(skb, WGCAP_DIR_OUT);
}
