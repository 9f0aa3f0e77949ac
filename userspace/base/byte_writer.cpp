// SPDX-License-Identifier: Apache-2.0
#include "wgcap/byte_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "file/capture_file_prefix.hpp"

namespace wgcap {
namespace {

std::string_view WriteHint(int errnum) {
  switch (errnum) {
  case EPIPE:
    return "the reader closed the pipe";
  case ENOSPC:
  case EDQUOT:
    return "free space on the output device or write elsewhere";
  default:
    return {};
  }
}

// umask() can only be read by setting it, which races with other threads
// creating files; the kernel reports it in /proc/self/status since 4.7.
mode_t CurrentUmask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
    }
  }
  const mode_t mask = umask(022);
  umask(mask);
  return mask;
}

} // namespace

Status MemoryWriter::Write(std::span<const std::uint8_t> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return {};
}

FdWriter::FdWriter(int fd, std::string name, std::size_t buffer_size)
    : fd_(fd), name_(std::move(name)), buffer_(buffer_size) {
  Empty();
}

FdWriter::~FdWriter() {
  if (const std::size_t n = used(); n > 0) {
    (void)WriteAll(buffer_.data(), n);
  }
}

Status FdWriter::Write(std::span<const std::uint8_t> bytes) {
  if (failed_) {
    return failure_;
  }
  // The same free space Claim hands out, so both keep the bytes in order.
  if (std::uint8_t* to = Claim(bytes.size())) {
    if (!bytes.empty()) {
      std::memcpy(to, bytes.data(), bytes.size());
    }
    return {};
  }
  if (auto flushed = Flush(); !flushed) {
    return flushed;
  }
  // A write as large as the buffer gains nothing from a copy.
  if (bytes.size() >= buffer_.size()) {
    return WriteAll(bytes.data(), bytes.size());
  }
  std::memcpy(Claim(bytes.size()), bytes.data(), bytes.size());
  return {};
}

Status FdWriter::Flush() {
  if (failed_) {
    return failure_;
  }
  const std::size_t n = used();
  Empty();
  return WriteAll(buffer_.data(), n);
}

void FdWriter::Fail(Error error) {
  failed_ = true;
  failure_ = std::move(error);
  SetWindow(nullptr, nullptr);
}

Status FdWriter::WriteAll(const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t written = ::write(fd_, p, n);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      // write() returning 0 for a non-empty buffer would loop forever.
      const int errnum = written < 0 ? errno : EIO;
      Fail(ErrnoError("write " + name_, errnum, WriteHint(errnum)));
      return failure_;
    }
    p += written;
    n -= static_cast<std::size_t>(written);
    flushed_ += static_cast<std::uint64_t>(written);
  }
  return {};
}

Result<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::size_t base = slash == std::string::npos ? 0 : slash + 1;
  if (base == path.size()) {
    return ErrnoError("create " + path, EISDIR);
  }
  // A device or a FIFO (-w /dev/null, a named pipe) is written in place:
  // renaming a file over it would replace the device node.
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  // Refused now: the rename onto a directory would fail only at the end, and
  // the whole capture would go with the temporary file.
  if (exists && S_ISDIR(st.st_mode)) {
    return ErrnoError("create " + path, EISDIR);
  }
  if (exists && !S_ISREG(st.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return ErrnoError("open " + path, errno);
    }
    return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(fd, path, std::string()));
  }
  // Hidden and beside the target, so the rename stays within one filesystem.
  std::string temp = path.substr(0, base) + "." + path.substr(base) + ".XXXXXX";
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError("create " + path, errno);
  }
  // mkostemp creates 0600; a capture file gets the mode a plain create would.
  if (fchmod(fd, 0666 & ~CurrentUmask()) != 0) {
    const int errnum = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return ErrnoError("chmod " + temp, errnum);
  }
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(fd, path, std::move(temp)));
}

Result<std::unique_ptr<AtomicFileWriter>>
AtomicFileWriter::CreateInPlace(const std::string& path, std::uint32_t uid, std::uint32_t gid) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return Create(path); // a directory (refused), a device or a FIFO
  }
  // Read and write: a failed capture is cut back to its complete records.
  // O_EXCL first, so the destructor knows whether the file is ours to remove.
  bool created = true;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) {
    return ErrnoError("create " + path, errno);
  }
  if (!created && (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)) {
    ::close(fd);
    return Error{"create " + path + ": not a regular file with a single link (refused with -Z)",
                 EPERM};
  }
  if (!created && ::ftruncate(fd, 0) != 0) {
    const int errnum = errno;
    ::close(fd);
    return ErrnoError("truncate " + path, errnum);
  }
  if (fchown(fd, uid, gid) != 0) {
    const int errnum = errno;
    ::close(fd);
    if (created) {
      ::unlink(path.c_str());
    }
    return ErrnoError("chown " + path, errnum);
  }
  std::unique_ptr<AtomicFileWriter> w(new AtomicFileWriter(fd, path, std::string()));
  w->regular_in_place_ = true;
  w->created_in_place_ = created;
  return w;
}

AtomicFileWriter::AtomicFileWriter(int fd, std::string path, std::string temp_path)
    : FdWriter(fd, path), path_(std::move(path)), temp_path_(std::move(temp_path)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (closed_) {
    return;
  }
  if (regular_in_place_) {
    // Created for this capture, which never got to Commit: like the
    // temporary file, it goes (best effort: after -Z the directory may not
    // let us).
    Fail(Error{});
    ::close(fd());
    if (created_in_place_) {
      ::unlink(path_.c_str());
    }
    return;
  }
  if (temp_path_.empty()) { // written in place: nothing to remove
    (void)Flush();
    ::close(fd());
    return;
  }
  // Buffered bytes would only go to a file about to be removed.
  Fail(Error{});
  ::close(fd());
  ::unlink(temp_path_.c_str());
}

Status AtomicFileWriter::Commit() {
  if (committed_) {
    return {};
  }
  if (closed_) {
    return Flush(); // the error that stopped the first Commit
  }
  if (auto flushed = Flush(); !flushed) {
    return flushed; // the destructor removes the temporary file
  }
  if (temp_path_.empty()) { // a device or FIFO, written in place
    closed_ = true;
    committed_ = true;
    const int rc = ::close(fd());
    Fail(Error{"write " + path_ + ": file already committed", EBADF});
    return rc == 0 ? Status{} : ErrnoError("close " + path_, errno);
  }
  // No fsync, for speed: readers never see a partial file, but after a power
  // loss the renamed file may be empty or short.
  closed_ = true;
  Status result;
  if (::close(fd()) != 0) {
    const int errnum = errno;
    result = ErrnoError("write " + path_, errnum, WriteHint(errnum));
  } else if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int errnum = errno;
    result = ErrnoError("rename " + temp_path_ + " to " + path_, errnum);
  }
  if (!result) {
    ::unlink(temp_path_.c_str());
    Fail(result.error());
    return result;
  }
  committed_ = true;
  // The fd number may be reused by now; later writes must not reach it.
  Fail(Error{"write " + path_ + ": file already committed", EBADF});
  return {};
}

Status AtomicFileWriter::CommitCompleteRecords() {
  if (regular_in_place_ && !committed_ && !closed_) {
    auto prefix = CompleteRecordsPrefix(fd());
    if (prefix && ::ftruncate(fd(), static_cast<off_t>(*prefix)) != 0) {
      prefix = ErrnoError("truncate " + path_, errno);
    }
    closed_ = true;
    committed_ = true;
    ::close(fd());
    Fail(Error{"write " + path_ + ": file already committed", EBADF});
    return prefix ? Status{} : Status(prefix.error());
  }
  if (committed_ || closed_ || temp_path_.empty()) {
    return Commit();
  }
  // What the buffer still holds cannot be written (the writer failed), so
  // only the bytes already in the file count.
  auto prefix = CompleteRecordsPrefix(fd());
  if (!prefix) {
    return prefix.error();
  }
  if (::ftruncate(fd(), static_cast<off_t>(*prefix)) != 0) {
    return ErrnoError("truncate " + temp_path_, errno);
  }
  closed_ = true;
  Status result;
  if (::close(fd()) != 0 && errno != EINTR) {
    result = ErrnoError("close " + temp_path_, errno);
  } else if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    result = ErrnoError("rename " + temp_path_ + " to " + path_, errno);
  }
  if (!result) {
    ::unlink(temp_path_.c_str());
    return result;
  }
  committed_ = true;
  Fail(Error{"write " + path_ + ": file already committed", EBADF});
  return {};
}

} // namespace wgcap
