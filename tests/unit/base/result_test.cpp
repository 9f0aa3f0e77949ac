// SPDX-License-Identifier: Apache-2.0
// Typed errors: the kind a caller acts on, derived from errno where the error
// names none; a filter error's column; the hint kept apart from the message.
#include "wgcap/result.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

TEST(ResultTest, PlainMessageBuildsAnError) {
  const Status status = Error{"something broke"};
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "something broke");
  EXPECT_EQ(status.error().errnum, 0);
  EXPECT_EQ(status.error().kind, ErrorKind::Unspecified);
  EXPECT_EQ(status.error().column, 0);
  EXPECT_EQ(KindOf(status.error()), ErrorKind::Unspecified);
}

TEST(ResultTest, KindFollowsErrnoUnlessNamed) {
  EXPECT_EQ(KindOf(Error{"x", EPERM}), ErrorKind::Permission);
  EXPECT_EQ(KindOf(Error{"x", EACCES}), ErrorKind::Permission);
  EXPECT_EQ(KindOf(Error{"x", ENODEV}), ErrorKind::NotFound);
  EXPECT_EQ(KindOf(Error{"x", ENOENT}), ErrorKind::NotFound);
  EXPECT_EQ(KindOf(Error{"x", EIO}), ErrorKind::Io);
  EXPECT_EQ(KindOf(Error{"x", EPERM, ErrorKind::Kernel}), ErrorKind::Kernel);
  EXPECT_STREQ(ToString(ErrorKind::NotFound), "not_found");
  EXPECT_STREQ(ToString(ErrorKind::Usage), "usage");
}

TEST(ResultTest, ErrnoErrorKeepsTheHintApartAndInTheMessage) {
  const Error e = ErrnoError("bpf", EPERM, "needs CAP_BPF");
  EXPECT_EQ(e.message, "bpf: " + std::string(std::strerror(EPERM)) + "; needs CAP_BPF");
  EXPECT_EQ(e.hint, "needs CAP_BPF");
  EXPECT_EQ(e.kind, ErrorKind::Permission);
  EXPECT_EQ(ErrnoError("read", EIO).hint, "");
}

TEST(ResultTest, FilterErrorsCarryTheirColumn) {
  const auto matcher = ParseFilter("udp and port");
  ASSERT_FALSE(matcher);
  EXPECT_EQ(matcher.error().kind, ErrorKind::Filter);
  const int column = matcher.error().column;
  EXPECT_GT(column, 0) << matcher.error().message;
  EXPECT_EQ(matcher.error().message.rfind("column " + std::to_string(column) + ": ", 0), 0u)
      << matcher.error().message;
  EXPECT_EQ(FilterError(Error{"no column here"}).column, 0);
}

} // namespace
} // namespace wgcap
