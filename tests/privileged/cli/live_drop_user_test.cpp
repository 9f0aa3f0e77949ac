// SPDX-License-Identifier: Apache-2.0
// -Z USER on the WireGuard testbed with each backend: after the listening
// line the process is USER with no capability at all (tcx, afpacket) or
// exactly CAP_NET_ADMIN (clsact, whose filters are deleted over netlink),
// packets still arrive, the -w file is USER's and complete after SIGINT, and
// nothing stays attached. An unknown USER attaches and creates nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "support/live_wgcap.hpp"
#include "support/subprocess.hpp"

namespace wgcap::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new LiveTestbed("lz"));

constexpr unsigned long long kCapNetAdmin = 1ull << 12;

// "Name:\tvalue" of /proc/PID/status (or a task's).
std::string StatusField(const std::string& status_path, const std::string& name) {
  std::ifstream in(status_path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + ":\t", 0) == 0) {
      return line.substr(name.size() + 2);
    }
  }
  return "(missing)";
}

unsigned long long Caps(const std::string& status_path, const std::string& name) {
  return std::stoull(StatusField(status_path, name), nullptr, 16);
}

std::vector<std::string> Tasks(pid_t pid) {
  std::vector<std::string> tasks;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') {
        tasks.push_back(dir + "/" + e->d_name + "/status");
      }
    }
    closedir(d);
  }
  return tasks;
}

struct Nobody {
  uid_t uid = 0;
  gid_t gid = 0;
};

Nobody LookUpNobody() {
  const passwd* pw = getpwnam("nobody");
  return pw ? Nobody{pw->pw_uid, pw->pw_gid} : Nobody{};
}

class LiveDropUser : public LiveTest, public ::testing::WithParamInterface<Backend> {};

TEST_P(LiveDropUser, RunsAsNobodyWithOnlyWhatDetachingNeeds) {
  const Backend& b = GetParam();
  const Nobody nobody = LookUpNobody();
  ASSERT_NE(nobody.uid, 0u) << "no user nobody";
  const std::string out = dir_.File("z.pcap");
  auto wgcap = StartWgcap(b, {"-Z", "nobody", "-w", out, "icmp"});
  const std::string status = "/proc/" + std::to_string(wgcap->pid()) + "/status";
  const std::string uid = std::to_string(nobody.uid), gid = std::to_string(nobody.gid);
  EXPECT_EQ(StatusField(status, "Uid"), uid + "\t" + uid + "\t" + uid + "\t" + uid);
  EXPECT_EQ(StatusField(status, "Gid"), gid + "\t" + gid + "\t" + gid + "\t" + gid);
  const unsigned long long kept = IsClsact(b) ? kCapNetAdmin : 0;
  EXPECT_EQ(Caps(status, "CapEff"), kept);
  EXPECT_EQ(Caps(status, "CapPrm"), kept);
  EXPECT_EQ(Caps(status, "CapInh"), 0u);
  EXPECT_EQ(Caps(status, "CapAmb"), 0u);
  EXPECT_EQ(StatusField(status, "NoNewPrivs"), "1");
  // Capabilities are per thread: the reader and session threads hold none.
  const auto tasks = Tasks(wgcap->pid());
  EXPECT_GE(tasks.size(), 2u);
  for (const std::string& task : tasks) {
    if (task != "/proc/" + std::to_string(wgcap->pid()) + "/task/" + std::to_string(wgcap->pid()) +
                    "/status") {
      EXPECT_EQ(Caps(task, "CapPrm"), 0u) << task;
      EXPECT_EQ(StatusField(task, "Uid").substr(0, uid.size()), uid) << task;
    }
  }
  if (IsClsact(b) || IsTcx(b)) {
    EXPECT_NE(Hooks(), "") << "attached while running";
  }

  Ping(testbed_->addr_b, 4);
  std::this_thread::sleep_for(300ms);
  wgcap->Signal(SIGINT);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  EXPECT_THAT(wgcap->Stderr(), HasSubstr("\n8 packets captured"));
  struct stat st {};
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody.uid) << "the file is USER's, as tcpdump's is";
  EXPECT_EQ(st.st_gid, nobody.gid);
  EXPECT_EQ(TcpdumpCount(out), 8);
  EXPECT_EQ(Hooks(), "") << "detached after the drop";
  EXPECT_FALSE(HasClsactQdisc()) << "the clsact qdisc wgcap created is gone too";
}

INSTANTIATE_TEST_SUITE_P(Backends, LiveDropUser, ::testing::Values(kAFPacket, kBpfTcx, kBpfClsact),
                         [](const ::testing::TestParamInfo<Backend>& b) { return b.param.name; });

TEST_F(LiveTest, UnknownUserIsAUsageErrorThatAttachesAndCreatesNothing) {
  for (const Backend& b : {kBpfClsact, kBpfTcx, kAFPacket}) {
    const std::string out = dir_.File("never.pcap");
    const auto r = test::Run(WgcapArgv(b, {"-Z", "nosuchuser-wgcap", "-w", out}));
    EXPECT_EQ(r.exit_code, 2) << b.name << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("-Z: no such user \"nosuchuser-wgcap\""));
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("listening")));
    struct stat st {};
    EXPECT_NE(stat(out.c_str(), &st), 0) << "no file";
    EXPECT_EQ(Hooks(), "");
    EXPECT_FALSE(HasClsactQdisc());
  }
}

// Checked before anything is attached: without CAP_SETUID/CAP_SETGID the
// switch could only fail after the capture started.
TEST_F(LiveTest, WithoutCapSetuidTheMessageNamesItBeforeAttaching) {
  const auto r = test::Run(testbed_->InA(
      {"capsh", "--drop=cap_setuid,cap_setgid", "--", "-c",
       WgcapBinary() + " -i " + testbed_->if_a + " -Z nobody -w " + dir_.File("no.pcap")}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("-Z nobody: switching to another user needs CAP_SETUID and "
                               "CAP_SETGID"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("listening")));
  struct stat st {};
  EXPECT_NE(stat(dir_.File("no.pcap").c_str(), &st), 0);
  EXPECT_EQ(Hooks(), "");
}

// Not root, though holding CAP_SETUID/CAP_SETGID: the kernel would not
// empty the reader and session threads' capability sets on the switch, so
// -Z is refused before anything is attached.
TEST_F(LiveTest, NonRootWithCapabilitiesIsRefused) {
  const std::string caps = "+setuid,+setgid,+net_raw";
  const auto r =
      test::Run(testbed_->InA({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                               "--inh-caps", caps, "--ambient-caps", caps, WgcapBinary(), "-i",
                               testbed_->if_a, "--mode", "afpacket", "-Z", "daemon"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("-Z daemon: only a wgcap started as root switches users"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("listening")));
}

// -Z naming the user wgcap already runs as would switch nothing, so the
// capabilities that user holds would all stay: refused, not ignored.
TEST_F(LiveTest, ZToTheCurrentUserHoldingCapabilitiesIsRefused) {
  const Nobody nobody = LookUpNobody();
  const std::string caps = "+net_raw";
  const auto r = test::Run(testbed_->InA(
      {"setpriv", "--reuid", std::to_string(nobody.uid), "--regid", std::to_string(nobody.gid),
       "--clear-groups", "--inh-caps", caps, "--ambient-caps", caps, WgcapBinary(), "-i",
       testbed_->if_a, "--mode", "afpacket", "-Z", "nobody"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("-Z nobody: already running as nobody but holding capabilities"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("listening")));
}

TEST_F(LiveTest, ZWithConnectIsAUsageError) {
  const auto r =
      test::Run({WgcapBinary(), "-i", "wg0", "--connect", "/nonexistent", "-Z", "nobody"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("-Z has no use with --connect"));
}

// -C/-G with -Z: every file is created after the drop, by USER, in a
// directory USER may write (as with tcpdump).
TEST_F(LiveTest, RotatedFilesAreCreatedByTheUser) {
  const Nobody nobody = LookUpNobody();
  const std::string dir = dir_.File("rotate");
  ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0); // nobody may pass through
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chown(dir.c_str(), nobody.uid, nobody.gid), 0);
  auto wgcap = StartWgcap(kAFPacket, {"-Z", "nobody", "-G", "1", "-w", dir + "/r.pcap", "icmp"});
  Ping(testbed_->addr_b, 2);
  std::this_thread::sleep_for(1200ms);
  Ping(testbed_->addr_b, 2);
  std::this_thread::sleep_for(300ms);
  wgcap->Signal(SIGINT);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  int files = 0, packets = 0;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') {
      continue;
    }
    const std::string path = dir + "/" + e->d_name;
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, nobody.uid) << path;
    packets += TcpdumpCount(path);
    ++files;
  }
  closedir(d);
  EXPECT_GE(files, 2);
  EXPECT_EQ(packets, 8);
}

// -Z with -r, as tcpdump allows: the output is USER's.
TEST_F(LiveTest, ReadFileWithZWritesTheUsersFile) {
  const Nobody nobody = LookUpNobody();
  const std::string in = dir_.File("in.pcap"), out = dir_.File("out.pcap");
  auto wgcap = StartWgcap(kAFPacket, {"-c", "2", "-w", in, "icmp"});
  Ping(testbed_->addr_b, 1);
  ASSERT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
  const auto r = test::Run({WgcapBinary(), "-r", in, "-Z", "nobody", "-w", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody.uid);
  EXPECT_EQ(TcpdumpCount(out), 2);
}

} // namespace
} // namespace wgcap::test
