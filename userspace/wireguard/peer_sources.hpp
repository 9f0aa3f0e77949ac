// SPDX-License-Identifier: Apache-2.0
// Where a PeerTable comes from: wireguard-go's UAPI socket, the kernel's
// "wireguard" generic netlink family, or the text of `wg show ... dump`.
// The parsers are separate from the I/O so tests feed them crafted replies.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wireguard/peer_table.hpp"

namespace wgcap::wireguard {

inline constexpr const char* kDefaultUapiDir = "/var/run/wireguard";

// --- wireguard-go UAPI (https://www.wireguard.com/xplatform/) ---
// The reply to `get=1\n\n`: key=value lines up to an empty line, `errno=N`
// last. Keys are hex there (public_key=), base64 in the table. A nonzero
// errno, a line without '=', a bad key or address, an allowed_ip before any
// public_key, or a reply without errno is an error naming the line.
Result<PeerTable> ParseUapiReply(std::string_view reply, const std::string& interface);
// Connects to `uapi_dir/interface.sock`, asks, parses. A 2 s timeout keeps
// a hung daemon from hanging the caller.
Result<PeerTable> ReadUapiPeers(const std::string& interface,
                                const std::string& uapi_dir = kDefaultUapiDir);

// --- `wg show IFACE dump` and `wg show all dump` ---
// Tab-separated. One interface: its line (private key, public key, port,
// fwmark: 4 columns), then one line per peer (public key, preshared key,
// endpoint, allowed-ips comma-separated or "(none)", handshake, rx, tx,
// keepalive: 8 columns). `all dump` puts the interface name first (5 and 9
// columns); then the peers of `interface` are taken, or, when `interface` is
// "" and the dump holds one interface, that one. The table is named
// `interface` (or the dump's name). Bad lines are errors with their number.
Result<PeerTable> ParseWgDump(std::string_view text, const std::string& interface);

// --- kernel WireGuard over generic netlink ---
// The family id in a CTRL_CMD_GETFAMILY reply (one datagram).
Result<std::uint16_t> ParseFamilyReply(std::span<const std::uint8_t> datagram);
// The peers in the datagrams of a WG_CMD_GET_DEVICE dump, up to NLMSG_DONE.
// A peer whose allowed-ips did not fit one message continues in the next
// with its key repeated; those parts are joined. A truncated attribute or
// message, or an NLMSG_ERROR, is an error.
Result<PeerTable> ParseDeviceDump(const std::vector<std::vector<std::uint8_t>>& datagrams,
                                  std::uint16_t family, const std::string& interface);
// Resolves the family, dumps the device by name, parses. Needs
// CAP_NET_ADMIN; NotFound when the kernel has no WireGuard family.
Result<PeerTable> ReadKernelPeers(const std::string& interface);

// The UAPI socket when `uapi_dir/interface.sock` exists (wireguard-go),
// otherwise generic netlink (the kernel module).
Result<PeerTable> LoadPeers(const std::string& interface,
                            const std::string& uapi_dir = kDefaultUapiDir);

} // namespace wgcap::wireguard
