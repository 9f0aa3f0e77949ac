// SPDX-License-Identifier: Apache-2.0
// A flight recorder: the capture written as a series of complete files,
// rotated by size (-C) and/or age (-G), keeping the newest N (-W). Names sort
// by time: BASE.YYYYMMDDTHHMMSSZ.NNNNNN.EXT (UTC, then a sequence number).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "wgcap/byte_writer.hpp"
#include "wgcap/packet_sink.hpp"

namespace wgcap {

struct RotationOptions {
  std::string base_path;        // "/var/lib/wgcap/wg0.pcap"
  std::uint64_t max_bytes = 0;  // rotate before a file would pass this; 0 = no size limit
  std::int64_t max_seconds = 0; // rotate once a file is this old; 0 = no age limit
  std::size_t max_files = 0;    // keep the newest N files; 0 = keep all
};

class RotatingFileSink final : public PacketSink {
public:
  // Opens a file's format writer over `out`, header written.
  using WriterFactory = std::function<Result<std::unique_ptr<PacketSink>>(ByteWriter& out)>;
  // The clock, injectable for tests.
  using Clock = std::function<std::int64_t()>; // ns since the epoch

  RotatingFileSink(RotationOptions options, WriterFactory factory, Clock clock = {});
  ~RotatingFileSink() override;

  Status WritePacket(const PacketRecord& packet) override;
  Status Flush() override;
  // Finishes and commits the current file.
  Status Finish(const Stats& stats) override;
  // After a failed write or flush (the Session calls no Finish on a failed
  // sink): cuts the open file back to its last complete pcap record or
  // pcapng block and commits it under its name, then keeps the newest N.
  // Nothing to do when no file is open.
  Status KeepCompleteRecords();

  // Names of the files kept so far, oldest first (finished ones, then the
  // open one).
  const std::deque<std::string>& files() const noexcept { return files_; }

private:
  Status Open();
  Status Rotate(const Stats* final_stats);
  Status CloseFile(bool complete_records_only);
  void RemoveOldest();
  std::string NextName() const;

  RotationOptions options_;
  WriterFactory factory_;
  Clock clock_;
  std::unique_ptr<AtomicFileWriter> file_;
  std::unique_ptr<PacketSink> writer_;
  std::int64_t opened_ns_ = 0;
  std::uint64_t packets_ = 0; // in the open file
  std::uint64_t sequence_ = 0;
  std::deque<std::string> files_;
};

} // namespace wgcap
