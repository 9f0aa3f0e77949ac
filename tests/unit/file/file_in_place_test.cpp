// SPDX-License-Identifier: Apache-2.0
// AtomicFileWriter::CreateInPlace, the -w FILE of `wgcap -Z USER`: the file
// exists from the start, belongs to USER, and is written where it is.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using test::ReadFileBytes;
using test::TempDir;
using test::WriteFileBytes;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(FileInPlace, ExistsAtOnceAndCommitKeepsIt) {
  TempDir dir;
  const std::string path = dir.File("out.pcap");
  WriteFileBytes(path, std::vector<std::uint8_t>(100, 'o')); // truncated, not appended to
  auto w = AtomicFileWriter::CreateInPlace(path, getuid(), getgid());
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ((*w)->temp_path(), "");
  EXPECT_TRUE(ReadFileBytes(path).empty());
  ASSERT_TRUE((*w)->Write("abc"));
  ASSERT_TRUE((*w)->Commit());
  EXPECT_EQ(ReadFileBytes(path), (std::vector<std::uint8_t>{'a', 'b', 'c'}));
  EXPECT_FALSE((*w)->Write("late")) << "nothing reaches the fd number after Commit";
}

TEST(FileInPlace, DestroyedWithoutCommitRemovesTheFile) {
  TempDir dir;
  const std::string path = dir.File("out.pcap");
  {
    auto w = AtomicFileWriter::CreateInPlace(path, getuid(), getgid());
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_TRUE(Exists(path));
  }
  EXPECT_FALSE(Exists(path));
}

TEST(FileInPlace, DestroyedWithoutCommitKeepsAFileThatWasThere) {
  TempDir dir;
  const std::string path = dir.File("old.pcap");
  WriteFileBytes(path, std::vector<std::uint8_t>(100, 'o'));
  {
    auto w = AtomicFileWriter::CreateInPlace(path, getuid(), getgid());
    ASSERT_TRUE(w) << w.error().message;
  }
  EXPECT_TRUE(Exists(path)) << "not this run's file: emptied (as tcpdump -Z), not removed";
}

TEST(FileInPlace, AHardLinkIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string other = dir.File("someone-elses");
  WriteFileBytes(other, std::vector<std::uint8_t>{'k', 'e', 'e', 'p'});
  const std::string path = dir.File("out.pcap");
  ASSERT_EQ(::link(other.c_str(), path.c_str()), 0);
  auto w = AtomicFileWriter::CreateInPlace(path, getuid(), getgid());
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("single link"), std::string::npos) << w.error().message;
  EXPECT_EQ(ReadFileBytes(other), (std::vector<std::uint8_t>{'k', 'e', 'e', 'p'}));
}

TEST(FileInPlace, FailedCaptureIsCutBackToCompleteRecords) {
  TempDir dir;
  const std::string path = dir.File("out.pcap");
  auto w = AtomicFileWriter::CreateInPlace(path, getuid(), getgid());
  ASSERT_TRUE(w) << w.error().message;
  PcapWriter pcap(**w, 65535);
  ASSERT_TRUE(pcap.WriteHeader());
  const std::vector<std::uint8_t> packet(40, 0x45);
  ASSERT_TRUE(pcap.WritePacket(1, packet));
  ASSERT_TRUE((*w)->Write(std::string(10, 'x'))); // half a record header
  ASSERT_TRUE((*w)->Flush());
  EXPECT_EQ(ReadFileBytes(path).size(), 24u + 16 + 40 + 10);
  ASSERT_TRUE((*w)->CommitCompleteRecords());
  EXPECT_EQ(ReadFileBytes(path).size(), 24u + 16 + 40);
}

TEST(FileInPlace, BelongsToTheGivenUser) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "chown to another user needs root";
  }
  TempDir dir;
  const std::string path = dir.File("out.pcap");
  auto w = AtomicFileWriter::CreateInPlace(path, 65534, 65534);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->Commit());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST(FileInPlace, ASymlinkIsNotFollowed) {
  TempDir dir;
  const std::string target = dir.File("elsewhere");
  WriteFileBytes(target, std::vector<std::uint8_t>{'k', 'e', 'e', 'p'});
  ASSERT_EQ(symlink(target.c_str(), dir.File("link.pcap").c_str()), 0);
  auto w = AtomicFileWriter::CreateInPlace(dir.File("link.pcap"), getuid(), getgid());
  EXPECT_FALSE(w);
  EXPECT_EQ(ReadFileBytes(target).size(), 4u) << "a planted link must not truncate its target";
}

} // namespace
} // namespace wgcap
