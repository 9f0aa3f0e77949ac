// SPDX-License-Identifier: Apache-2.0
// `wgcap -i` on the testbed for the tests of its live flags (-Q, -Z, -D):
// the three backends, one testbed per test process, and a fixture that
// starts wgcap in namespace A and waits for its listening line.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "support/background_process.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"

namespace wgcap::test {

struct Backend {
  const char* name;
  std::vector<std::string> env;  // e.g. WGCAP_TC_ATTACH=clsact
  std::vector<std::string> args; // --mode ...
  const char* listening;         // what the listening line names
};

inline void PrintTo(const Backend& b, std::ostream* os) {
  *os << b.name;
}

extern const Backend kAFPacket;
extern const Backend kBpfTcx;
extern const Backend kBpfClsact;

// What the listening line names for `b` on this kernel (clsact before 6.6).
std::string Listening(const Backend& b);
bool IsClsact(const Backend& b); // what -Z keeps CAP_NET_ADMIN for
bool IsTcx(const Backend& b);

int CountOf(const std::string& text, const std::string& needle);
// A field of the --stats JSON line on stderr; a test failure and -1 when absent.
std::int64_t StatsField(const std::string& err, const std::string& name);
// Packets in a capture file, as tcpdump counts them.
int TcpdumpCount(const std::string& file);

// The testbed of this test process (ctest runs each test in its own).
// Register with ::testing::AddGlobalTestEnvironment(new LiveTestbed("xy")).
class LiveTestbed : public ::testing::Environment {
public:
  explicit LiveTestbed(std::string tag, Testbed::Peers peers = Testbed::Peers::Two)
      : tag_(std::move(tag)), peers_(peers) {}
  void SetUp() override;
  void TearDown() override { current.reset(); }
  static inline std::unique_ptr<Testbed> current;

private:
  std::string tag_;
  Testbed::Peers peers_;
};

class LiveTest : public ::testing::Test {
protected:
  void SetUp() override;

  std::vector<std::string> WgcapArgv(const Backend& b, const std::vector<std::string>& args) const;
  // wgcap in namespace A on the WireGuard interface, started and listening.
  std::unique_ptr<BackgroundProcess> StartWgcap(const Backend& b,
                                                const std::vector<std::string>& args,
                                                const std::string& name = "wgcap");
  void Ping(const std::string& to, int count);
  // tc filters of both hooks and tcx program count on if_a; "" when none.
  std::string Hooks() const { return testbed_->HooksOnA(); }
  std::string TcFilters(const char* hook) const;
  bool HasClsactQdisc() const;

  Testbed* testbed_ = nullptr;
  TempDir dir_;
};

} // namespace wgcap::test
