// SPDX-License-Identifier: Apache-2.0
#include "cli/offline_capture.hpp"

#include <cstdio>
#include <optional>

#include "cli/capture_output.hpp"
#include "cli/peer_filter.hpp"
#include "cli/privilege_drop.hpp"
#include "cli/stats_json.hpp"
#include "file/pcap_reader.hpp"
#include "wgcap/session.hpp"

namespace wgcap::cli {
namespace {

const char* LinkTypeName(std::uint32_t link_type) {
  switch (link_type) {
  case kLinkTypeNull:
    return "NULL (BSD loopback)";
  case kLinkTypeEthernet:
    return "EN10MB (Ethernet)";
  case kLinkTypeLinuxSll:
    return "LINUX_SLL (Linux cooked v1)";
  case kLinkTypeLinuxSll2:
    return "LINUX_SLL2 (Linux cooked v2)";
  case kLinkTypeIpv4:
    return "IPV4 (Raw IPv4)";
  case kLinkTypeIpv6:
    return "IPV6 (Raw IPv6)";
  default:
    return "RAW (Raw IP)";
  }
}

// The peers of `peer` terms and attribution with -r: --wg-peers FILE (the
// dump's allowed-ips attribute every packet of the file, as ifindex 0), else
// what the file's records name (pcapng written by wgcap: each record carries
// the attribution made when it was captured). The matcher comes back with
// its `peer` terms resolved.
Result<std::shared_ptr<const PeerDirectory>>
LoadFilePeers(const Arguments& args, std::shared_ptr<const ExpressionMatcher>& matcher) {
  if (args.wg_peers.empty()) {
    auto resolved = ResolveRecordedPeerFilter(std::move(matcher), args.read_file);
    if (!resolved) {
      return resolved.error();
    }
    matcher = std::move(resolved).value();
    return std::shared_ptr<const PeerDirectory>();
  }
  auto table = ReadWgPeersFile(args.wg_peers);
  if (!table) {
    return table.error();
  }
  auto resolved = ResolvePeerFilter(std::move(matcher), *table);
  if (!resolved) {
    return resolved.error();
  }
  matcher = std::move(resolved).value();
  auto directory = std::make_shared<PeerDirectory>();
  directory->Publish(0, table->Routes());
  return std::shared_ptr<const PeerDirectory>(std::move(directory));
}

} // namespace

int RunOfflineCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher) {
  // -Z with -r, as in tcpdump: checked first, dropped once input and output are open.
  int exit_code = 0;
  const std::optional<DropTarget> drop = ResolveDropUser(args.drop_user, exit_code);
  if (exit_code != 0) {
    return exit_code;
  }
  auto peers = LoadFilePeers(args, matcher);
  if (!peers) {
    return peers.error().kind == ErrorKind::Filter ? FailFilter(peers.error(), args.expression)
                                                   : Fail(peers.error());
  }
  auto input = ByteReader::OpenFile(args.read_file);
  if (!input) {
    return Fail(input.error());
  }
  auto reader = OpenCaptureFile(std::move(input).value());
  if (!reader) {
    return Fail(reader.error());
  }
  const std::uint32_t link_type = (*reader)->link_type();
  if (!IsSupportedLinkType(link_type)) {
    return Fail(Error{args.read_file + ": link-type " + std::to_string(link_type) +
                          " is not supported (wgcap reads raw IP, Ethernet, Linux cooked and "
                          "loopback captures)",
                      0});
  }
  std::fprintf(stderr, "reading from file %s, link-type %s, snapshot length %u\n",
               args.read_file == "-" ? "-" : args.read_file.c_str(), LinkTypeName(link_type),
               (*reader)->snaplen());

  CaptureOutput output;
  if (drop) {
    output.OwnFileAs(drop->uid, drop->gid);
  }
  output.SetPeers(std::move(peers).value(), HasPeerTerms(matcher->expression()));
  auto session = output.OpenSession(args, std::move(matcher));
  if (!session) {
    return Fail(session.error());
  }
  if (drop) {
    if (auto dropped = DropPrivileges(*drop, KeepCapability::None); !dropped) {
      (*session)->Stop();
      return Fail(dropped.error());
    }
  }

  FileRecord record;
  std::optional<Error> read_error;
  std::int64_t read = 0;
  // Straight from the reader's buffer to the sinks on this thread, in
  // batches so the writer thread can flush what waits (SPEC 4: 100 ms).
  constexpr std::int64_t kBatch = 1024;
  bool delivering = (*session)->BeginDelivery();
  while (delivering) {
    auto more = (*reader)->Next(record);
    if (!more) {
      read_error = more.error();
      break;
    }
    if (!*more) {
      break;
    }
    ++read;
    // pcapng interfaces each have a link type, and record a direction.
    if (!(*session)->Deliver(ToNetworkLayer(record))) {
      break; // packet limit reached or a sink failed
    }
    if (read % kBatch == 0) {
      (*session)->EndDelivery(false);
      delivering = (*session)->BeginDelivery();
    }
  }
  if (delivering) {
    (*session)->EndDelivery(true);
  }
  (*session)->Stop();
  const Stats stats = (*session)->GetStats();
  if (args.stats) {
    std::fprintf(stderr, "%s\n", StatsJson(stats, "file").c_str());
  }
  if (auto s = (*session)->error(); !s) {
    (void)output.Commit(/*write_failed=*/true); // keep the records written before it
    return Fail(s.error());
  }
  // Packets before a truncated record were processed; the file holds them.
  if (auto s = output.Commit(); !s) {
    return Fail(s.error());
  }
  std::fprintf(stderr, "%lld packets read, %lld matched, %lld written\n",
               static_cast<long long>(read), static_cast<long long>(stats.matched),
               static_cast<long long>(stats.packets));
  if (read_error) {
    return Fail(*read_error);
  }
  return 0;
}

} // namespace wgcap::cli
