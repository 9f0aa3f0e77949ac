// SPDX-License-Identifier: Apache-2.0
// `wgcap serve` and `wgcap --connect` on the WireGuard testbed: an
// unprivileged user in the allowed group captures through the daemon, others
// are refused, limits hold, and every end of a capture detaches its hook. The
// daemon's recorder (-i -w) runs beside the clients and outside their limits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

#include "support/background_process.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;
using test::BackgroundProcess;
using ::testing::HasSubstr;

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// A group and two users for the test run, removed at the end.
struct Accounts {
  std::string group, member, outsider;
  bool made = false;
  std::string error; // what the command that failed said
  Accounts() {
    const std::string id = std::to_string(getpid() % 100000);
    group = "wgcapg" + id;
    member = "wgcapin" + id;
    outsider = "wgcapout" + id;
    made =
        Make({"groupadd", "--system", group}) &&
        Make({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups",
              group, member}) &&
        Make({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", outsider});
  }
  bool Make(const std::vector<std::string>& argv) {
    const auto r = test::Run(argv);
    if (r.exit_code != 0) {
      error = argv[0] + " " + argv.back() + ": exit " + std::to_string(r.exit_code) + ": " + r.err;
    }
    return r.exit_code == 0;
  }
  ~Accounts() {
    test::Run({"userdel", member});
    test::Run({"userdel", outsider});
    test::Run({"groupdel", group});
  }
};

class ServeEnvironment : public ::testing::Environment {
public:
  void SetUp() override {
    if (test::MissingPrivileges().empty()) {
      testbed = std::make_unique<test::Testbed>("sv");
      accounts = std::make_unique<Accounts>();
    }
  }
  void TearDown() override {
    accounts.reset();
    testbed.reset();
  }
  static inline std::unique_ptr<test::Testbed> testbed;
  static inline std::unique_ptr<Accounts> accounts;
};
[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServeEnvironment);

class Serve : public ::testing::Test {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    tb_ = ServeEnvironment::testbed.get();
    accounts_ = ServeEnvironment::accounts.get();
    ASSERT_TRUE(tb_ && tb_->up()) << (tb_ ? tb_->up_output() : "");
    ASSERT_TRUE(accounts_ && accounts_->made)
        << "groupadd/useradd failed: " << (accounts_ ? accounts_->error : "");
    // The users reach the socket and write their files here.
    ASSERT_EQ(chmod(dir_.path().c_str(), 0777), 0);
    socket_ = dir_.File("wgcap.sock");
  }

  // The daemon, as root in namespace A.
  std::unique_ptr<BackgroundProcess> StartDaemon(const std::vector<std::string>& limits) {
    std::vector<std::string> argv = {test::WgcapBinary(), "serve",         "--socket", socket_,
                                     "--allow-group",     accounts_->group};
    argv.insert(argv.end(), limits.begin(), limits.end());
    auto d = std::make_unique<BackgroundProcess>(tb_->InA(argv), dir_.path(), "daemon");
    EXPECT_TRUE(d->WaitForStderr("listening on " + socket_, 10s)) << d->Stderr();
    return d;
  }

  // `wgcap --connect` as `user`, no privileges of its own.
  std::vector<std::string> ClientArgv(const std::string& user,
                                      const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"setpriv",
                                     "--reuid=" + user,
                                     "--regid=" + user,
                                     "--init-groups",
                                     "--inh-caps=-all",
                                     "--bounding-set=-all",
                                     "--",
                                     test::WgcapBinary(),
                                     "--connect",
                                     socket_,
                                     "-i",
                                     tb_->if_a};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  void Ping(int count) {
    const auto r = test::Run(
        tb_->InA({"ping", "-c", std::to_string(count), "-i", "0.05", "-W", "2", tb_->addr_b}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  test::Testbed* tb_ = nullptr;
  Accounts* accounts_ = nullptr;
  test::TempDir dir_;
  std::string socket_;
};

TEST_F(Serve, GroupMemberCapturesWithoutPrivileges) {
  auto daemon = StartDaemon({});
  BackgroundProcess client(ClientArgv(accounts_->member, {"-c", "6", "icmp"}), dir_.path(),
                           "client");
  ASSERT_TRUE(client.WaitForStderr("listening on " + tb_->if_a, 10s)) << client.Stderr();
  Ping(3);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_EQ(Count(client.Stdout(), "[OUT ICMP] " + tb_->addr_a + " > " + tb_->addr_b), 3)
      << client.Stdout();
  EXPECT_EQ(Count(client.Stdout(), "[IN  ICMP] " + tb_->addr_b + " > " + tb_->addr_a), 3);
  EXPECT_THAT(client.Stderr(), HasSubstr("6 packets captured"));
  EXPECT_EQ(tb_->HooksOnA(), "");
  // One line at the start and one at the end, naming requester, expression and counts.
  const auto uid = test::Run({"id", "-u", accounts_->member}).out;
  EXPECT_THAT(daemon->Stderr(), HasSubstr("start uid=" + uid.substr(0, uid.size() - 1)));
  EXPECT_THAT(
      daemon->Stderr(),
      HasSubstr("expr='icmp' exit=0: the packet count (-c) was reached, 6 packets captured"));
}

// -Q travels with the request: the daemon attaches only that hook.
TEST_F(Serve, DirectionReachesTheDaemon) {
  auto daemon = StartDaemon({});
  BackgroundProcess client(ClientArgv(accounts_->member, {"-Q", "out", "-c", "3", "icmp"}),
                           dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on " + tb_->if_a, 10s)) << client.Stderr();
  EXPECT_EQ(test::TcxPrograms(tb_->ns_a, tb_->if_a, test::TcxHook::Ingress), 0);
  if (test::KernelHasTcx()) {
    EXPECT_EQ(test::TcxPrograms(tb_->ns_a, tb_->if_a, test::TcxHook::Egress), 1);
  }
  Ping(3);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_EQ(Count(client.Stdout(), "[OUT"), 3) << client.Stdout();
  EXPECT_EQ(Count(client.Stdout(), "[IN"), 0) << client.Stdout();
  EXPECT_EQ(tb_->HooksOnA(), "");
}

// A request's `peer` term resolves against the daemon's WireGuard peers
// and its packets come back attributed, as a local capture shows them; an
// unknown key is refused with the local capture's message.
TEST_F(Serve, PeerFilterAndAttributionReachTheClient) {
  auto daemon = StartDaemon({});
  const std::string peer_b = "peer " + tb_->key_b.substr(0, 8) + " ";
  BackgroundProcess client(ClientArgv(accounts_->member, {"-e", "-c", "6", "peer",
                                                          tb_->key_b.substr(0, 8), "and", "icmp"}),
                           dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on " + tb_->if_a, 10s)) << client.Stderr();
  Ping(3);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_EQ(Count(client.Stdout(), "[OUT ICMP] " + peer_b), 3) << client.Stdout();
  EXPECT_EQ(Count(client.Stdout(), "[IN  ICMP] " + peer_b), 3) << client.Stdout();

  const auto unknown = test::Run(ClientArgv(accounts_->member, {"-c", "1", "peer", "ZZZZ"}));
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("peer \"ZZZZ\" is no peer of " + tb_->if_a));
  EXPECT_EQ(tb_->HooksOnA(), "");
}

TEST_F(Serve, MemberWritesAPcapFileLocally) {
  auto daemon = StartDaemon({});
  const std::string out = dir_.File("member.pcap");
  BackgroundProcess client(ClientArgv(accounts_->member, {"-c", "4", "-w", out, "icmp"}),
                           dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on", 10s)) << client.Stderr();
  Ping(2);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  const auto read = test::Run({"tcpdump", "-nn", "-r", out});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(Count(read.out, "ICMP echo"), 4);
}

// The daemon streams -w -; the client's name decides the format, so a
// pcapng file (the default) keeps each packet's direction.
TEST_F(Serve, MemberWritesAPcapngFileWithDirections) {
  auto daemon = StartDaemon({});
  const std::string out = dir_.File("member.pcapng");
  BackgroundProcess client(ClientArgv(accounts_->member, {"-c", "4", "-w", out, "icmp"}),
                           dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on", 10s)) << client.Stderr();
  Ping(2);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  const auto text = test::Run({test::WgcapBinary(), "-r", out});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(Count(text.out, "[OUT ICMP]"), 2) << text.out;
  EXPECT_EQ(Count(text.out, "[IN  ICMP]"), 2) << text.out;
}

// -F: the client reads the file and sends its expression; the daemon (root)
// never opens a file for a client.
TEST_F(Serve, FilterFileIsReadByTheClient) {
  auto daemon = StartDaemon({});
  const std::string filter = dir_.File("filter.txt");
  test::WriteFileBytes(filter, {'i', 'c', 'm', 'p', ' ', '#', ' ', 'p', 'i', 'n', 'g', '\n'});
  BackgroundProcess client(ClientArgv(accounts_->member, {"-c", "2", "-F", filter, "udp"}),
                           dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on", 10s)) << client.Stderr();
  Ping(1);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_EQ(Count(client.Stdout(), " ICMP] "), 2) << client.Stdout();
  EXPECT_THAT(daemon->Stderr(), HasSubstr("expr='icmp        '"));
  const auto missing =
      test::Run(ClientArgv(accounts_->member, {"-F", dir_.File("missing.txt"), "icmp"}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "wgcap: -F " + dir_.File("missing.txt") + ": No such file or directory\n");
  EXPECT_EQ(tb_->HooksOnA(), "");
}

TEST_F(Serve, OutsiderIsRefusedWithAMessage) {
  auto daemon = StartDaemon({});
  const auto r = test::Run(ClientArgv(accounts_->outsider, {"-c", "1"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("may not capture here"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("refused uid="));
}

TEST_F(Serve, RequestsAreValidatedBeforeAnythingAttaches) {
  auto daemon = StartDaemon({});
  auto argv = ClientArgv(accounts_->member, {"-c", "1"});
  argv[argv.size() - 3] = "nosuch0"; // the interface after -i
  const auto r = test::Run(argv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "wgcap: nosuch0: no such interface\n") << "as a local capture says it";
  // Nor is a client's -w file left behind by a refused request.
  const std::string out = dir_.File("refused.pcapng");
  argv.insert(argv.end(), {"-w", out});
  const auto with_file = test::Run(argv);
  EXPECT_EQ(with_file.exit_code, 1);
  EXPECT_EQ(with_file.err, "wgcap: nosuch0: no such interface\n");
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(tb_->HooksOnA(), "");
}

TEST_F(Serve, MaxCapturesRefusesTheOneTooMany) {
  auto daemon = StartDaemon({"--max-captures", "1"});
  BackgroundProcess first(ClientArgv(accounts_->member, {"icmp"}), dir_.path(), "first");
  ASSERT_TRUE(first.WaitForStderr("listening on", 10s)) << first.Stderr();
  const auto second = test::Run(ClientArgv(accounts_->member, {"icmp"}));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("too many captures running (limit 1)"));
  first.Signal(SIGINT); // Ctrl-C: the client asks the daemon to stop
  ASSERT_EQ(first.Wait(10s), std::optional<int>(0)) << first.Stderr();
  EXPECT_THAT(first.Stderr(), HasSubstr("packets captured"));
  EXPECT_EQ(tb_->HooksOnA(), "");
}

TEST_F(Serve, MaxDurationEndsTheCapture) {
  auto daemon = StartDaemon({"--max-duration", "1s"});
  const auto start = std::chrono::steady_clock::now();
  const auto r = test::Run(ClientArgv(accounts_->member, {"icmp"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_THAT(r.err, HasSubstr("(--max-duration)"));
}

TEST_F(Serve, MaxBytesEndsTheCapture) {
  auto daemon = StartDaemon({"--max-bytes", "2K"});
  BackgroundProcess client(ClientArgv(accounts_->member, {"-w", "-", "icmp"}), dir_.path(),
                           "client");
  ASSERT_TRUE(client.WaitForStderr("listening on", 10s)) << client.Stderr();
  test::Run(tb_->InA({"ping", "-c", "20", "-i", "0.05", "-s", "500", "-W", "1", tb_->addr_b}));
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_THAT(daemon->Stderr(), HasSubstr("the byte limit (--max-bytes) was reached"));
  EXPECT_LT(client.Stdout().size(), 2048u + 66000u) << "stopped at the first batch past the limit";
  EXPECT_EQ(tb_->HooksOnA(), "");
}

TEST_F(Serve, KilledClientLeavesNoHook) {
  auto daemon = StartDaemon({});
  BackgroundProcess client(ClientArgv(accounts_->member, {"icmp"}), dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on", 10s)) << client.Stderr();
  EXPECT_NE(tb_->HooksOnA(), "");
  client.Signal(SIGKILL);
  client.Wait(10s);
  Ping(1); // a packet to write makes the loss of the client certain even without it
  std::string hooks = "?";
  for (int i = 0; i < 50 && !hooks.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    hooks = tb_->HooksOnA();
  }
  EXPECT_EQ(hooks, "");
  // Noticed either by a write failing or by the socket closing first.
  EXPECT_THAT(daemon->Stderr(), ::testing::AnyOf(HasSubstr("the client went away"),
                                                 HasSubstr("the other side went away")));
}

TEST_F(Serve, DaemonSigtermEndsEveryCaptureCleanly) {
  auto daemon = StartDaemon({});
  BackgroundProcess a(ClientArgv(accounts_->member, {"icmp"}), dir_.path(), "a");
  BackgroundProcess b(ClientArgv(accounts_->member, {"udp"}), dir_.path(), "b");
  ASSERT_TRUE(a.WaitForStderr("listening on", 10s)) << a.Stderr();
  ASSERT_TRUE(b.WaitForStderr("listening on", 10s)) << b.Stderr();
  Ping(2);
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(10s), std::optional<int>(0)) << daemon->Stderr();
  ASSERT_EQ(a.Wait(10s), std::optional<int>(0)) << a.Stderr();
  ASSERT_EQ(b.Wait(10s), std::optional<int>(0)) << b.Stderr();
  EXPECT_THAT(a.Stderr(), HasSubstr("4 packets captured"));
  EXPECT_THAT(b.Stderr(), HasSubstr("0 packets captured"));
  EXPECT_EQ(tb_->HooksOnA(), "");
  struct stat st {};
  EXPECT_NE(stat(socket_.c_str(), &st), 0) << "the socket is removed";
}

// --- the recorder: `wgcap serve ... -i IFACE -w BASE [-G -W] [expression]` --------

// The names in `dir`, sorted (the recorder's sort by time).
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// "request 3", "reply 3", ... as tcpdump reads the ICMP echoes of `file`.
std::vector<std::string> Echoes(const std::string& file) {
  const auto read = test::Run({"tcpdump", "-nn", "-r", file});
  EXPECT_EQ(read.exit_code, 0) << file << ": " << read.err;
  static const std::regex kEcho("ICMP echo (request|reply), id [0-9]+, seq ([0-9]+)");
  std::vector<std::string> echoes;
  for (std::sregex_iterator m(read.out.begin(), read.out.end(), kEcho), end; m != end; ++m) {
    echoes.push_back((*m)[1].str() + " " + (*m)[2].str());
  }
  EXPECT_EQ(echoes.size(), static_cast<std::size_t>(Count(read.out, "\n"))) << read.out;
  return echoes;
}

TEST_F(Serve, RecorderRunsBesideOnDemandCaptures) {
  const std::string rec = dir_.File("rec");
  ASSERT_EQ(mkdir(rec.c_str(), 0700), 0);
  // --max-captures 1: the recorder does not take the one client's place.
  auto daemon = StartDaemon({"--max-captures", "1", "-i", tb_->if_a, "-w", rec + "/wg.pcap", "-G",
                             "1", "-W", "2", "icmp"});
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("recorder start iface=" + tb_->if_a + " expr='icmp' file=" + rec +
                        "/wg.pcap: listening on " + tb_->if_a));
  BackgroundProcess client(ClientArgv(accounts_->member, {"icmp"}), dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on " + tb_->if_a, 10s)) << client.Stderr();
  // 8 echoes over 3.5 s: with -G 1 the recorder starts at least 3 files and
  // keeps the newest 2.
  const auto ping = test::Run(tb_->InA({"ping", "-c", "8", "-i", "0.5", "-W", "2", tb_->addr_b}));
  ASSERT_EQ(ping.exit_code, 0) << ping.out;

  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(10s), std::optional<int>(0)) << daemon->Stderr();
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_EQ(Count(client.Stdout(), "[OUT ICMP] " + tb_->addr_a + " > " + tb_->addr_b), 8)
      << client.Stdout();
  EXPECT_EQ(Count(client.Stdout(), "[IN  ICMP] " + tb_->addr_b + " > " + tb_->addr_a), 8);
  EXPECT_THAT(client.Stderr(), HasSubstr("16 packets captured"));
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("recorder end iface=" + tb_->if_a +
                        " expr='icmp' exit=0: the daemon is stopping, 16 packets captured, "
                        "0 dropped\n"));
  EXPECT_EQ(tb_->HooksOnA(), "");

  // Two complete files (no temporary one left), named by time; together the
  // end of the ping in order, the start gone with the older files.
  const auto names = Names(rec);
  ASSERT_EQ(names.size(), 2u) << ::testing::PrintToString(names);
  std::vector<std::string> recorded;
  for (const auto& name : names) {
    EXPECT_THAT(name, ::testing::MatchesRegex("wg\\.[0-9]{8}T[0-9]{6}Z\\.[0-9]{6}\\.pcap"));
    const auto echoes = Echoes(rec + "/" + name);
    EXPECT_FALSE(echoes.empty()) << name;
    recorded.insert(recorded.end(), echoes.begin(), echoes.end());
  }
  std::vector<std::string> sent;
  for (int seq = 1; seq <= 8; ++seq) {
    sent.push_back("request " + std::to_string(seq));
    sent.push_back("reply " + std::to_string(seq));
  }
  ASSERT_FALSE(recorded.empty());
  ASSERT_LT(recorded.size(), sent.size()) << "-W 2 removed the oldest files";
  EXPECT_TRUE(std::equal(recorded.rbegin(), recorded.rend(), sent.rbegin()))
      << ::testing::PrintToString(recorded);
}

TEST_F(Serve, RecorderIsOutsideTheClientLimits) {
  const std::string rec = dir_.File("rec");
  ASSERT_EQ(mkdir(rec.c_str(), 0700), 0);
  auto daemon = StartDaemon({"--max-duration", "1s", "--max-bytes", "1K", "-i", tb_->if_a, "-w",
                             rec + "/wg.pcap", "icmp"});
  BackgroundProcess client(ClientArgv(accounts_->member, {"icmp"}), dir_.path(), "client");
  ASSERT_TRUE(client.WaitForStderr("listening on " + tb_->if_a, 10s)) << client.Stderr();
  // 6 echoes over 2 s: 12 packets of 100 bytes in pcap, past both limits.
  const auto ping = test::Run(tb_->InA({"ping", "-c", "6", "-i", "0.4", "-W", "2", tb_->addr_b}));
  ASSERT_EQ(ping.exit_code, 0) << ping.out;
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_THAT(client.Stderr(), HasSubstr("(--max-duration)")) << "the client's capture is cut";

  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(10s), std::optional<int>(0)) << daemon->Stderr();
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("recorder end iface=" + tb_->if_a +
                        " expr='icmp' exit=0: the daemon is stopping, 12 packets captured"));
  EXPECT_EQ(Echoes(rec + "/wg.pcap").size(), 12u);
  EXPECT_EQ(Names(rec), std::vector<std::string>{"wg.pcap"});
  EXPECT_EQ(tb_->HooksOnA(), "");
}

// A file system mounted for one test, unmounted also when the test fails.
struct SmallFileSystem {
  std::string path;
  bool mounted = false;
  SmallFileSystem(std::string at, const std::string& size) : path(std::move(at)) {
    mounted =
        mkdir(path.c_str(), 0700) == 0 &&
        test::Run({"mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", path}).exit_code == 0;
  }
  ~SmallFileSystem() {
    if (mounted) {
      test::Run({"umount", path});
    }
  }
};

TEST_F(Serve, RecorderFailureLeavesTheDaemonServing) {
  SmallFileSystem full(dir_.File("small"), "64k"); // before the daemon: unmounted after it
  ASSERT_TRUE(full.mounted);
  auto daemon =
      StartDaemon({"-i", tb_->if_a, "-w", full.path + "/wg.pcap", "-G", "60", "-W", "3", "icmp"});
  // 80 echoes of 1400 bytes: about 230 KB for 64 KB.
  test::Run(tb_->InA({"ping", "-c", "80", "-i", "0.01", "-s", "1400", "-W", "1", tb_->addr_b}));
  ASSERT_TRUE(daemon->WaitForStderr("recorder end", 10s)) << daemon->Stderr();
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("recorder end iface=" + tb_->if_a + " expr='icmp' exit=1: "));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("No space left on device"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("packets captured"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("the recorder has stopped, on-demand captures go on"));
  EXPECT_EQ(tb_->HooksOnA(), "") << "the recorder's hook is gone";

  BackgroundProcess client(ClientArgv(accounts_->member, {"-c", "4", "icmp"}), dir_.path(),
                           "client");
  ASSERT_TRUE(client.WaitForStderr("listening on " + tb_->if_a, 10s)) << client.Stderr();
  Ping(2);
  ASSERT_EQ(client.Wait(10s), std::optional<int>(0)) << client.Stderr();
  EXPECT_EQ(Count(client.Stdout(), "[OUT ICMP] " + tb_->addr_a + " > " + tb_->addr_b), 2);
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(10s), std::optional<int>(0)) << daemon->Stderr();
  EXPECT_EQ(Count(daemon->Stderr(), "recorder end"), 1);
  EXPECT_EQ(tb_->HooksOnA(), "");
}

} // namespace
} // namespace wgcap
