// SPDX-License-Identifier: Apache-2.0
#include "wgcap/byte_writer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace wgcap {
namespace {

using test::ReadFileBytes;
using test::TempDir;
using test::WriteFileBytes;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::uint8_t> Bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  closedir(dir);
  return names;
}

bool Exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

// A pipe whose read end never blocks, so a test can see what was written so far.
struct Pipe {
  Pipe() {
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
  }
  ~Pipe() {
    CloseRead();
    close(fds[1]);
  }
  void CloseRead() {
    if (fds[0] >= 0) {
      close(fds[0]);
      fds[0] = -1;
    }
  }
  std::string Drain() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  int fds[2] = {-1, -1};
};

TEST(MemoryWriter, Appends) {
  MemoryWriter w;
  ASSERT_TRUE(w.Write("ab"));
  ASSERT_TRUE(w.Write(std::span<const std::uint8_t>(Bytes("cd"))));
  ASSERT_TRUE(w.Flush());
  EXPECT_EQ(w.str(), "abcd");
  w.clear();
  EXPECT_TRUE(w.bytes().empty());
}

TEST(FdWriter, BuffersUntilFullOrFlushed) {
  Pipe p;
  FdWriter w(p.fds[1], "pipe", 8);
  ASSERT_TRUE(w.Write("abc"));
  ASSERT_TRUE(w.Write("defgh")); // exactly fills the buffer
  EXPECT_EQ(p.Drain(), "");
  ASSERT_TRUE(w.Write("ij")); // does not fit: the full buffer goes first
  EXPECT_EQ(p.Drain(), "abcdefgh");
  ASSERT_TRUE(w.Flush());
  EXPECT_EQ(p.Drain(), "ij");
}

TEST(FdWriter, LargeWriteBypassesBufferInOrder) {
  Pipe p;
  FdWriter w(p.fds[1], "pipe", 8);
  ASSERT_TRUE(w.Write("xy"));
  const std::string big(100, 'B');
  ASSERT_TRUE(w.Write(big));
  EXPECT_EQ(p.Drain(), "xy" + big);
}

TEST(FdWriter, DestructorFlushesAndLeavesFdOpen) {
  Pipe p;
  {
    FdWriter w(p.fds[1], "pipe");
    ASSERT_TRUE(w.Write("tail"));
  }
  EXPECT_EQ(p.Drain(), "tail");
  EXPECT_NE(fcntl(p.fds[1], F_GETFD), -1) << "FdWriter must not close a fd it does not own";
}

TEST(FdWriter, ClosedPipeIsAStickyErrorNamingThePipe) {
  signal(SIGPIPE, SIG_IGN);
  Pipe p;
  p.CloseRead();
  FdWriter w(p.fds[1], "stdout", 16);
  ASSERT_TRUE(w.Write("buffered")); // nothing reaches the fd yet
  const Status flushed = w.Flush();
  ASSERT_FALSE(flushed);
  EXPECT_EQ(flushed.error().errnum, EPIPE);
  EXPECT_THAT(flushed.error().message, StartsWith("write stdout: Broken pipe"));
  EXPECT_THAT(flushed.error().message, HasSubstr("the reader closed the pipe"));

  const Status again = w.Write("more");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, flushed.error().message);
  EXPECT_EQ(w.Flush().error().message, flushed.error().message);
}

TEST(FdWriter, FullDeviceReportsNoSpace) {
  const int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    FdWriter w(fd, "/dev/full", 4);
    const Status s = w.Write("more than four bytes");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().errnum, ENOSPC);
    EXPECT_THAT(s.error().message, HasSubstr("write /dev/full: No space left on device"));
    EXPECT_THAT(s.error().message, HasSubstr("free space"));
    EXPECT_FALSE(w.Flush());
  }
  close(fd);
}

TEST(AtomicFileWriter, TargetAppearsOnlyAtCommit) {
  TempDir dir;
  const std::string path = dir.File("out.pcap");
  auto w = AtomicFileWriter::Create(path);
  ASSERT_TRUE(w) << w.error().message;
  const std::string temp = (*w)->temp_path();
  EXPECT_THAT(temp, StartsWith(dir.path() + "/.out.pcap."));
  ASSERT_TRUE((*w)->Write("hello "));
  ASSERT_TRUE((*w)->Write("world"));
  ASSERT_TRUE((*w)->Flush());
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(Exists(temp));

  ASSERT_TRUE((*w)->Commit());
  EXPECT_EQ(ReadFileBytes(path), Bytes("hello world"));
  EXPECT_FALSE(Exists(temp));
  EXPECT_TRUE((*w)->Commit()) << "Commit is idempotent";

  // A write after Commit must not reach whatever now holds the old fd number.
  EXPECT_FALSE((*w)->Write("late"));
  w->reset();
  EXPECT_EQ(ReadFileBytes(path), Bytes("hello world"));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out.pcap"});
}

TEST(AtomicFileWriter, DestroyedWithoutCommitLeavesNothing) {
  TempDir dir;
  {
    auto w = AtomicFileWriter::Create(dir.File("out.pcap"));
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE((*w)->Write(std::string(100000, 'x'))); // some of it reaches the file
    EXPECT_EQ(ListDir(dir.path()).size(), 1u);
  }
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(AtomicFileWriter, CommitReplacesExistingFile) {
  TempDir dir;
  const std::string path = dir.File("out.pcap");
  WriteFileBytes(path, Bytes("old contents, longer than the new"));
  auto w = AtomicFileWriter::Create(path);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->Write("new"));
  EXPECT_EQ(ReadFileBytes(path), Bytes("old contents, longer than the new"));
  ASSERT_TRUE((*w)->Commit());
  EXPECT_EQ(ReadFileBytes(path), Bytes("new"));
}

TEST(AtomicFileWriter, ModeFollowsUmaskLikeAPlainCreate) {
  TempDir dir;
  const mode_t old = umask(027);
  auto w = AtomicFileWriter::Create(dir.File("out.pcap"));
  umask(old);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->Commit());
  struct stat st {};
  ASSERT_EQ(stat(dir.File("out.pcap").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(AtomicFileWriter, RelativePathStaysInItsDirectory) {
  TempDir dir;
  const int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_EQ(chdir(dir.path().c_str()), 0);
  {
    auto w = AtomicFileWriter::Create("rel.pcap");
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_THAT((*w)->temp_path(), StartsWith(".rel.pcap."));
    ASSERT_TRUE((*w)->Write("r"));
    ASSERT_TRUE((*w)->Commit());
  }
  ASSERT_EQ(fchdir(cwd), 0);
  close(cwd);
  EXPECT_EQ(ReadFileBytes(dir.File("rel.pcap")), Bytes("r"));
}

TEST(AtomicFileWriter, MissingDirectoryNamesThePath) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/out.pcap");
  auto w = AtomicFileWriter::Create(path);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().errnum, ENOENT);
  EXPECT_EQ(w.error().message, "create " + path + ": No such file or directory");
}

TEST(AtomicFileWriter, ADirectoryIsRefusedAtCreate) {
  // Not at the final rename, after the whole capture went into the
  // temporary file.
  TempDir dir;
  auto w = AtomicFileWriter::Create(dir.path());
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().errnum, EISDIR);
  EXPECT_EQ(w.error().message, "create " + dir.path() + ": Is a directory");
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(AtomicFileWriter, FailedCommitNamesTheTargetAndCleansUp) {
  // A directory that appears at the target while writing makes the rename
  // fail; nothing is kept behind.
  TempDir dir;
  const std::string path = dir.File("sub");
  auto w = AtomicFileWriter::Create(path);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
  ASSERT_TRUE((*w)->Write("x"));
  const Status s = (*w)->Commit();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr(path));
  EXPECT_EQ((*w)->Commit().error().message, s.error().message) << "the failure is kept";
  w->reset();
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"sub"});
}

// Claim, the sinks' fast path, hands out the same buffer Write fills, in order.
TEST(FdWriterClaim, SharesTheBufferWithWriteInOrder) {
  Pipe p;
  FdWriter w(p.fds[1], "pipe", 8);
  ASSERT_TRUE(w.Write("ab"));
  std::uint8_t* claimed = w.Claim(3);
  ASSERT_NE(claimed, nullptr);
  std::memcpy(claimed, "cde", 3);
  ASSERT_TRUE(w.Write("f"));
  EXPECT_EQ(w.bytes_accepted(), 6u);
  EXPECT_EQ(p.Drain(), "") << "claimed bytes stay buffered like written ones";
  ASSERT_TRUE(w.Flush());
  EXPECT_EQ(p.Drain(), "abcdef");
  EXPECT_EQ(w.bytes_accepted(), 6u);
}

TEST(FdWriterClaim, ExactlyTheRestOfTheBufferThenNothingUntilFlushed) {
  Pipe p;
  FdWriter w(p.fds[1], "pipe", 8);
  ASSERT_TRUE(w.Write("abc"));
  std::uint8_t* rest = w.Claim(5);
  ASSERT_NE(rest, nullptr) << "a claim that exactly fills the buffer";
  std::memcpy(rest, "defgh", 5);
  EXPECT_EQ(w.Claim(1), nullptr) << "the buffer is full";
  ASSERT_TRUE(w.Write("i")); // Write makes room by flushing
  EXPECT_EQ(p.Drain(), "abcdefgh");
  ASSERT_NE(w.Claim(7), nullptr) << "after the flush, the rest of the buffer again";
  EXPECT_EQ(w.Claim(1), nullptr);
}

TEST(FdWriterClaim, LargerThanTheBufferIsDeclinedAndWriteBypasses) {
  Pipe p;
  FdWriter w(p.fds[1], "pipe", 8);
  EXPECT_EQ(w.Claim(9), nullptr);
  ASSERT_TRUE(w.Write("123456789"));
  EXPECT_EQ(p.Drain(), "123456789");
  FdWriter unbuffered(p.fds[1], "pipe", 0);
  EXPECT_EQ(unbuffered.Claim(1), nullptr) << "no buffer, no window";
}

TEST(FdWriterClaim, DeclinedAfterAFailureSoWriteReportsIt) {
  signal(SIGPIPE, SIG_IGN);
  Pipe p;
  p.CloseRead();
  FdWriter w(p.fds[1], "stdout", 16);
  ASSERT_NE(w.Claim(4), nullptr); // a partly used window when the flush fails
  const Status flushed = w.Flush();
  ASSERT_FALSE(flushed);
  EXPECT_EQ(w.Claim(1), nullptr) << "a failed writer lends no buffer";
  EXPECT_EQ(w.Write("x").error().message, flushed.error().message);
}

TEST(MemoryWriterClaim, AlwaysDeclinedSoEverythingGoesThroughWrite) {
  MemoryWriter w;
  EXPECT_EQ(w.Claim(1), nullptr);
}

} // namespace
} // namespace wgcap
