// SPDX-License-Identifier: Apache-2.0
// Where a capture's packets go, for both -r and -i: a pcap file (written
// atomically) or stdout, and text on stdout.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <utility>

#include "cli/arguments.hpp"
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
  // The live interface's index, for the pcapng interface block (resolved
  // once by the caller). Call before OpenSession.
  void SetInterfaceIndex(unsigned ifindex) { ifindex_ = ifindex; }

  Result<std::unique_ptr<Session>> OpenSession(const Arguments& args,
                                               std::shared_ptr<const Matcher> matcher,
                                               ByteWriter* stdout_writer = nullptr,
                                               // WireGuard peers to attribute with (SPEC 10)
                                               std::shared_ptr<const PeerDirectory> peers = {});
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
  unsigned ifindex_ = 0;
};

// Prints an error as "wgcap: MESSAGE" and returns exit code 1.
int Fail(const Error& error);

} // namespace wgcap::cli
