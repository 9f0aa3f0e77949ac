// SPDX-License-Identifier: Apache-2.0
// The sinks, packets and waits the Session tests share.
#pragma once

#include "wgcap/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;

// Only a guard against hangs; no test depends on how fast anything is.
constexpr auto kGuard = 5s;

inline std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::vector<std::uint8_t> Packet(std::size_t size, std::uint8_t first = 0x45) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  }
  if (size > 0) {
    bytes[0] = first;
  }
  return bytes;
}

inline PacketRecord Record(std::span<const std::uint8_t> data) {
  return PacketRecord{.timestamp_ns = 1'700'000'000'000'000'000, .data = data};
}

inline std::unique_ptr<Session> MakeSession(Options options) {
  auto session = Session::Create(std::move(options));
  if (!session) {
    ADD_FAILURE() << session.error().message;
    return nullptr;
  }
  return std::move(session).value();
}

// Waits until `condition` holds; false after kGuard.
inline bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A door the writer thread can be held at.
class Gate {
public:
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return open_; });
  }
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Declared after the session so a failing test cannot leave the writer held
// at a gate while the session's destructor joins it.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.Open(); }
};

struct Captured {
  std::int64_t timestamp_ns;
  std::vector<std::uint8_t> data;
  std::uint32_t original_length;
  Direction direction;
  std::uint32_t ifindex;
  std::uint16_t gso_segs;
  std::uint16_t gso_size;
  const PeerKey* peer;
};

// Records everything the writer hands it; safe to poll from the test thread.
class RecordingSink : public PacketSink {
public:
  // Runs on the writer thread before packet number `index` (0-based) is
  // recorded; a failure is returned to the session.
  std::function<Status(std::int64_t index)> before_write;

  Status WritePacket(const PacketRecord& packet) override {
    const std::int64_t index = writes_.load();
    if (before_write) {
      if (Status status = before_write(index); !status) {
        failed_writes_.fetch_add(1);
        return status;
      }
    }
    {
      std::lock_guard lock(mutex_);
      packets_.push_back(Captured{packet.timestamp_ns,
                                  {packet.data.begin(), packet.data.end()},
                                  packet.original_length,
                                  packet.direction,
                                  packet.ifindex,
                                  packet.gso_segs,
                                  packet.gso_size,
                                  packet.peer});
    }
    writes_.fetch_add(1);
    return {};
  }
  Status Flush() override {
    flushes_.fetch_add(1);
    return {};
  }
  Status Finish(const Stats& final_stats) override {
    std::lock_guard lock(mutex_);
    final_stats_ = final_stats;
    finishes_.fetch_add(1);
    return {};
  }

  std::int64_t writes() const { return writes_.load(); }
  std::int64_t failed_writes() const { return failed_writes_.load(); }
  std::int64_t flushes() const { return flushes_.load(); }
  std::int64_t finishes() const { return finishes_.load(); }
  std::vector<Captured> packets() const {
    std::lock_guard lock(mutex_);
    return packets_;
  }
  Stats final_stats() const {
    std::lock_guard lock(mutex_);
    return final_stats_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<Captured> packets_;
  Stats final_stats_;
  std::atomic<std::int64_t> writes_{0};
  std::atomic<std::int64_t> failed_writes_{0};
  std::atomic<std::int64_t> flushes_{0};
  std::atomic<std::int64_t> finishes_{0};
};

inline std::uint32_t ReadLe32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8 | std::uint32_t{b[at + 2]} << 16 |
         std::uint32_t{b[at + 3]} << 24;
}

// Every one of `count` packets written, none dropped, in the order offered
// (packet i starts with the byte i).
inline void ExpectAllInOrder(const Session& session, const RecordingSink& sink, int count) {
  const Stats stats = session.GetStats();
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.packets, count);
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(got[i].data[0], static_cast<std::uint8_t>(i)) << i;
  }
}

} // namespace
} // namespace wgcap
