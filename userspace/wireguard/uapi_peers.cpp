// SPDX-License-Identifier: Apache-2.0
// wireguard-go's cross-platform UAPI: a UNIX socket speaking key=value lines.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/unique_fd.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::wireguard {
namespace {

constexpr std::size_t kMaxReply = 16 << 20; // a sanity bound: ~100k peers

Error LineError(const std::string& interface, int line, const std::string& what) {
  return Error{"UAPI reply of " + interface + ", line " + std::to_string(line) + ": " + what};
}

// Applies one key=value line to the table; an error message or "".
std::string ApplyLine(std::string_view key, std::string_view value, PeerTable& table) {
  if (key == "public_key") {
    auto parsed = KeyFromHex(value);
    if (!parsed) {
      return "public_key is not 64 hex digits";
    }
    table.peers.push_back(Peer{*parsed, {}});
  } else if (key == "allowed_ip") {
    if (table.peers.empty()) {
      return "allowed_ip before any public_key";
    }
    std::string error;
    auto prefix = IpPrefix::Parse(value, &error);
    if (!prefix || value.find('/') == std::string_view::npos) {
      return "allowed_ip \"" + std::string(value) +
             "\": " + (error.empty() ? std::string("no prefix length") : error);
    }
    table.peers.back().allowed_ips.push_back(*prefix);
  }
  return {}; // the other keys (endpoint, handshake times, ...) are not needed
}

} // namespace

Result<PeerTable> ParseUapiReply(std::string_view reply, const std::string& interface) {
  PeerTable table;
  table.interface = interface;
  int line_number = 0;
  while (!reply.empty()) {
    const auto end = reply.find('\n');
    const std::string_view line = reply.substr(0, end);
    reply = end == std::string_view::npos ? std::string_view() : reply.substr(end + 1);
    ++line_number;
    if (line.empty()) {
      break; // the reply's end
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return LineError(interface, line_number, "not key=value: \"" + std::string(line) + "\"");
    }
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (key == "errno") {
      int errnum = 0;
      const auto [at, ec] = std::from_chars(value.data(), value.data() + value.size(), errnum);
      if (ec != std::errc() || at != value.data() + value.size()) {
        return LineError(interface, line_number, "bad errno \"" + std::string(value) + "\"");
      }
      if (errnum != 0) {
        return ErrnoError("UAPI get of " + interface, errnum);
      }
      return table;
    }
    if (auto error = ApplyLine(key, value, table); !error.empty()) {
      return LineError(interface, line_number, error);
    }
  }
  return Error{"UAPI reply of " + interface + " ends without errno= (cut short?)"};
}

Result<PeerTable> ReadUapiPeers(const std::string& interface, const std::string& uapi_dir) {
  const std::string path = uapi_dir + "/" + interface + ".sock";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return Error{"UAPI socket path too long: " + path};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoError("UAPI socket", errno);
  }
  const timeval timeout{2, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int errnum = errno; // before the message's allocations
    return ErrnoError("connect " + path, errnum,
                      errnum == EACCES ? "reading peers needs root" : std::string_view());
  }
  constexpr std::string_view kRequest = "get=1\n\n";
  if (send(fd.get(), kRequest.data(), kRequest.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(kRequest.size())) {
    return ErrnoError("send to " + path, errno);
  }
  // wireguard-go keeps the connection open for the next request, so the
  // reply ends at its empty line, not at EOF.
  std::string reply;
  char buf[4096];
  while (reply.find("\n\n") == std::string::npos && reply.size() < kMaxReply) {
    const ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoError("receive from " + path, errno);
    }
    if (n == 0) {
      break;
    }
    reply.append(buf, static_cast<std::size_t>(n));
  }
  return ParseUapiReply(reply, interface);
}

Result<PeerTable> LoadPeers(const std::string& interface, const std::string& uapi_dir) {
  struct stat st {};
  const std::string path = uapi_dir + "/" + interface + ".sock";
  if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    return ReadUapiPeers(interface, uapi_dir);
  }
  return ReadKernelPeers(interface);
}

} // namespace wgcap::wireguard
