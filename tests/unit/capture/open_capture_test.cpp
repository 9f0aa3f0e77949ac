// SPDX-License-Identifier: Apache-2.0
// OpenCapture's part that needs no privilege: the interface is looked up
// first, and a missing one is a NotFound error naming it under every mode,
// never a reason to fall back to another backend.
#include "wgcap/capture.hpp"

#include <gtest/gtest.h>

#include <string>

#include "wgcap/byte_writer.hpp"
#include "wgcap/session.hpp"

namespace wgcap {
namespace {

constexpr const char* kMissing = "wgcap-layout-x0"; // IFNAMSIZ: under 16

TEST(OpenCaptureTest, MissingInterfaceIsNotFoundUnderEveryMode) {
  MemoryWriter out;
  Options options;
  options.output = &out;
  auto session = Session::Create(options);
  ASSERT_TRUE(session) << session.error().message;
  for (const CaptureMode mode : {CaptureMode::Auto, CaptureMode::Bpf, CaptureMode::AfPacket}) {
    CaptureOptions capture_options;
    capture_options.mode = mode;
    int fallbacks = 0;
    const auto capture = OpenCapture(kMissing, **session, capture_options,
                                     [&fallbacks](const Error&) { ++fallbacks; });
    ASSERT_FALSE(capture);
    EXPECT_EQ(capture.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(capture.error().message, std::string(kMissing) + ": no such interface");
    EXPECT_EQ(fallbacks, 0);
  }
  (*session)->Stop();
}

TEST(OpenCaptureTest, ResolveInterfaceNamesTheMissingOne) {
  const auto index = ResolveInterface(kMissing);
  ASSERT_FALSE(index);
  EXPECT_EQ(KindOf(index.error()), ErrorKind::NotFound);
  EXPECT_NE(index.error().message.find(kMissing), std::string::npos);
}

} // namespace
} // namespace wgcap
