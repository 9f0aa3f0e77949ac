// SPDX-License-Identifier: Apache-2.0
#include "file/rotating_file_sink.hpp"

#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "wgcap/session.hpp"

namespace wgcap {
namespace {

std::int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

RotatingFileSink::RotatingFileSink(RotationOptions options, WriterFactory factory, Clock clock)
    : options_(std::move(options)), factory_(std::move(factory)),
      clock_(clock ? std::move(clock) : Clock(RealtimeNs)) {}

RotatingFileSink::~RotatingFileSink() = default;

std::string RotatingFileSink::NextName() const {
  const std::string& base = options_.base_path;
  const auto slash = base.rfind('/');
  const auto dot = base.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_ext ? base.substr(0, dot) : base;
  const std::string ext = has_ext ? base.substr(dot) : "";
  const time_t seconds = static_cast<time_t>(clock_() / 1'000'000'000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char when[64];
  std::snprintf(when, sizeof when, "%04d%02d%02dT%02d%02d%02dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  char seq[16];
  std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(sequence_ + 1));
  return stem + "." + when + "." + seq + ext;
}

Status RotatingFileSink::Open() {
  const std::string name = NextName();
  auto file = AtomicFileWriter::Create(name);
  if (!file) {
    return file.error();
  }
  // The format writer writes to the file itself, with no wrapper between
  // them, so it gets the file buffer's fast path (ByteWriter::Claim).
  auto writer = factory_(**file);
  if (!writer) {
    return writer.error();
  }
  ++sequence_;
  file_ = std::move(file).value();
  writer_ = std::move(writer).value();
  opened_ns_ = clock_();
  packets_ = 0;
  files_.push_back(name);
  return {};
}

Status RotatingFileSink::Rotate(const Stats* final_stats) {
  if (!writer_) {
    return {};
  }
  Status finished = final_stats != nullptr ? writer_->Finish(*final_stats) : Status{};
  if (finished) {
    finished = writer_->Flush();
  }
  if (!finished) {
    (void)KeepCompleteRecords();
    return finished;
  }
  return CloseFile(false);
}

Status RotatingFileSink::KeepCompleteRecords() {
  if (!file_) {
    return {};
  }
  return CloseFile(true);
}

// Gives the current file its final name (cut back to its last complete
// record after a failed write), then applies -W.
Status RotatingFileSink::CloseFile(bool complete_records_only) {
  writer_.reset();
  const Status committed = complete_records_only ? file_->CommitCompleteRecords() : file_->Commit();
  file_.reset();
  if (!committed) {
    files_.pop_back(); // the temporary file is gone
    return committed;
  }
  RemoveOldest();
  return {};
}

// The newest N stay; the oldest go (only files this recorder made).
void RotatingFileSink::RemoveOldest() {
  while (options_.max_files > 0 && files_.size() > options_.max_files) {
    ::unlink(files_.front().c_str());
    files_.pop_front();
  }
}

Status RotatingFileSink::WritePacket(const PacketRecord& packet) {
  const std::int64_t now = clock_();
  const bool too_big = options_.max_bytes > 0 && writer_ && packets_ > 0 &&
                       file_->bytes_accepted() >= options_.max_bytes;
  const bool too_old = options_.max_seconds > 0 && writer_ &&
                       now - opened_ns_ >= options_.max_seconds * 1'000'000'000;
  if (writer_ && (too_big || too_old)) {
    if (auto rotated = Rotate(nullptr); !rotated) {
      return rotated;
    }
  }
  if (!writer_) {
    if (auto opened = Open(); !opened) {
      return opened;
    }
  }
  if (auto written = writer_->WritePacket(packet); !written) {
    return written;
  }
  ++packets_;
  return {};
}

Status RotatingFileSink::Flush() {
  return writer_ ? writer_->Flush() : Status{};
}

Status RotatingFileSink::Finish(const Stats& stats) {
  if (!writer_) {
    // A capture of zero packets still leaves one (empty, valid) file.
    if (auto opened = Open(); !opened) {
      return opened;
    }
  }
  return Rotate(&stats);
}

} // namespace wgcap
