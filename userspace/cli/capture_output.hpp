// SPDX-License-Identifier: Apache-2.0
// Where a capture's packets go, for both -r and -i: a pcap file (written
// atomically) or stdout, and text on stdout.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/interface_selection.hpp"
#include "file/rotating_file_sink.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap::cli {

class CaptureOutput {
public:
  // Opens the outputs the arguments ask for and a Session writing to them
  // with the arguments' matcher, snap length, count and text options.
  // `stdout_writer` replaces the process's stdout (wgcap serve streams to
  // its client). With -l, text is flushed line by line either way.
  // -Z: a single -w FILE is created now, owned by uid:gid, and written in
  // place (the user may not rename in its directory). Rotated files are
  // created later, after the drop, by that user. Call before OpenSession.
  void OwnFileAs(uid_t uid, gid_t gid) { owner_ = {uid, gid}; }
  // The live interfaces (resolved once by the caller), for the pcapng
  // interface blocks: one per interface, in this order. Call before
  // OpenSession.
  void SetInterfaces(std::vector<SelectedInterface> interfaces) {
    interfaces_ = std::move(interfaces);
  }
  // One more sink for the session (not owned). Call before OpenSession.
  void AddSink(PacketSink* sink) { extra_sinks_.push_back(sink); }
  // The peers the Session attributes packets to (Options::peers; null:
  // none). Call before OpenSession.
  // The Session attributes only where something reads the peer: a `peer`
  // term (`filter_reads_peers`), a pcapng file (its comments), text with -e
  // or -v; elsewhere it would be a parse and a lookup per packet for nothing.
  void SetPeers(std::shared_ptr<const PeerDirectory> peers, bool filter_reads_peers) {
    peers_ = std::move(peers);
    filter_reads_peers_ = filter_reads_peers;
  }

  Result<std::unique_ptr<Session>> OpenSession(const Arguments& args,
                                               std::shared_ptr<const Matcher> matcher,
                                               ByteWriter* stdout_writer = nullptr);
  // Renames the pcap file into place (or flushes stdout). After a failed
  // write, keeps the records completed before the failure (with rotation,
  // in the file being written; the earlier ones are complete already).
  Status Commit(bool write_failed = false);

private:
  Status Open(const Arguments& args, Options& options, ByteWriter* stdout_writer);

  std::unique_ptr<AtomicFileWriter> file_;
  std::unique_ptr<FdWriter> pcap_stdout_;
  std::unique_ptr<PcapWriter> pcap_;
  std::unique_ptr<PcapngWriter> pcapng_;
  std::unique_ptr<FdWriter> text_stdout_;
  std::unique_ptr<ByteWriter> text_lines_; // -l, over the text output
  std::unique_ptr<RotatingFileSink> rotating_;
  std::optional<std::pair<uid_t, gid_t>> owner_;
  std::vector<SelectedInterface> interfaces_;
  std::vector<PacketSink*> extra_sinks_;
  std::shared_ptr<const PeerDirectory> peers_;
  bool filter_reads_peers_ = false;
};

// Prints an error as "wgcap: MESSAGE" and returns exit code 1.
int Fail(const Error& error);

} // namespace wgcap::cli
