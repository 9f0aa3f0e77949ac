// SPDX-License-Identifier: Apache-2.0
// The small byte-writer interface every sink writes through, so tests check
// bytes in memory and the CLI plugs in files, pipes and stdout.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wgcap/result.hpp"

namespace wgcap {

class ByteWriter {
public:
  virtual ~ByteWriter() = default;
  virtual Status Write(std::span<const std::uint8_t> bytes) = 0;
  virtual Status Flush() = 0;
  Status Write(std::string_view text) {
    return Write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
};

class MemoryWriter final : public ByteWriter {
public:
  Status Write(std::span<const std::uint8_t> bytes) override;
  Status Flush() override { return {}; }
  using ByteWriter::Write;
  const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }
  std::string str() const { return std::string(bytes_.begin(), bytes_.end()); }
  void clear() noexcept { bytes_.clear(); }

private:
  std::vector<std::uint8_t> bytes_;
};

// Buffered writer over a file descriptor it does not own (stdout, a pipe).
// A failed write (EPIPE, ENOSPC) is returned and every later call fails too.
class FdWriter : public ByteWriter {
public:
  explicit FdWriter(int fd, std::string name, std::size_t buffer_size = 1 << 16);
  ~FdWriter() override;
  FdWriter(const FdWriter&) = delete;
  FdWriter& operator=(const FdWriter&) = delete;

  Status Write(std::span<const std::uint8_t> bytes) override;
  Status Flush() override;
  using ByteWriter::Write;

protected:
  int fd() const noexcept { return fd_; }
  const std::string& name() const noexcept { return name_; }
  // Drops buffered bytes and makes every later call return `error`; for a
  // subclass that closes the fd itself, so nothing is written to it after.
  void Fail(Error error);

private:
  Status WriteAll(const std::uint8_t* p, std::size_t n);

  int fd_;
  std::string name_;
  std::vector<std::uint8_t> buffer_;
  std::size_t used_ = 0;
  bool failed_ = false;
  Error failure_;
};

// Writes to a temporary file beside `path` and renames it over `path` on
// Commit, so `path` never holds a half-written capture. Destroyed without a
// Commit, the temporary file is removed.
class AtomicFileWriter final : public FdWriter {
public:
  static Result<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path);
  // For a process about to give up root (-Z): `path` itself is created (or
  // truncated) now, owned by uid:gid, and written in place, as tcpdump does;
  // the new user may not rename in the directory, but may write its own file.
  // Commit then only flushes and closes; CommitCompleteRecords cuts the file
  // back in place; destroyed without either, a file this call created is
  // removed (an existing one stays, emptied, as with tcpdump -Z). An existing
  // `path` must be a regular file with one link: root truncates and chowns
  // it, so a hard link to another file is refused.
  static Result<std::unique_ptr<AtomicFileWriter>>
  CreateInPlace(const std::string& path, std::uint32_t uid, std::uint32_t gid);
  ~AtomicFileWriter() override;

  // Flushes, closes and renames into place.
  Status Commit();
  // After a failed write: cuts the temporary file back to its last complete
  // pcap record or pcapng block and renames that into place, so what was
  // written before the failure stays a valid capture.
  Status CommitCompleteRecords();
  const std::string& temp_path() const noexcept { return temp_path_; }

private:
  AtomicFileWriter(int fd, std::string path, std::string temp_path);

  std::string path_;
  std::string temp_path_;
  bool committed_ = false;
  bool closed_ = false;
  bool regular_in_place_ = false; // CreateInPlace: may be cut back on failure
  bool created_in_place_ = false; // CreateInPlace made the file: removed on failure
};

} // namespace wgcap
