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

  // The per-packet fast path (no virtual call, no copy but the sink's own):
  // `n` bytes of the writer's buffer, which the caller must fill completely
  // before its next call on this writer, and which then count as written.
  // Null when the buffer has fewer than `n` bytes free, when the writer has
  // no buffer (MemoryWriter, wrappers) or after a failure: the caller then
  // goes through Write, which flushes or reports the failure.
  std::uint8_t* Claim(std::size_t n) noexcept {
    if (n > static_cast<std::size_t>(window_end_ - window_next_)) {
      return nullptr;
    }
    std::uint8_t* claimed = window_next_;
    window_next_ += n;
    return claimed;
  }

protected:
  // For a subclass with a buffer: [next, end) is the free space Claim hands
  // out, moving `next` on. Both null (the default): Claim always declines.
  void SetWindow(std::uint8_t* next, std::uint8_t* end) noexcept {
    window_next_ = next;
    window_end_ = end;
  }
  std::uint8_t* window_next() const noexcept { return window_next_; }
  std::uint8_t* window_end() const noexcept { return window_end_; }

private:
  std::uint8_t* window_next_ = nullptr;
  std::uint8_t* window_end_ = nullptr;
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
  // Every byte accepted so far, written or still buffered (what -C counts).
  std::uint64_t bytes_accepted() const noexcept { return flushed_ + used(); }

protected:
  int fd() const noexcept { return fd_; }
  const std::string& name() const noexcept { return name_; }
  // Drops buffered bytes and makes every later call return `error`; for a
  // subclass that closes the fd itself, so nothing is written to it after.
  void Fail(Error error);

private:
  // The buffered bytes: [buffer_ start, window_next()). The window is the
  // rest of the buffer, and empty once failed, so Claim sends every later
  // record to Write, which returns the failure.
  std::size_t used() const noexcept {
    return failed_ ? 0 : static_cast<std::size_t>(window_next() - buffer_.data());
  }
  void Empty() noexcept { SetWindow(buffer_.data(), buffer_.data() + buffer_.size()); }
  Status WriteAll(const std::uint8_t* p, std::size_t n);

  int fd_;
  std::string name_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t flushed_ = 0; // bytes handed to write(2) without error
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
