// SPDX-License-Identifier: Apache-2.0
// Errors as values at system boundaries: every loader, socket or file call
// returns a Result that carries what was attempted, the errno text and, where
// one exists, a hint the user can act on.
#pragma once

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wgcap {

// What went wrong, in categories a caller can act on. The agent maps them
// to exit codes in one place (userspace/cli/exit_codes.cpp).
enum class ErrorKind {
  Unspecified, // not classified: KindOf() derives one from errnum
  Usage,       // a bad argument or option value
  Filter,      // the filter expression does not parse (column set)
  Permission,  // a capability is missing (EPERM, EACCES)
  NotFound,    // no such interface or file (ENODEV, ENXIO, ENOENT)
  Io,          // a read or write failed
  Kernel,      // the kernel refused: program load, attach, map
};

// "usage", "filter", "permission", "not_found", "io", "kernel", "error".
const char* ToString(ErrorKind kind) noexcept;

// Built from a plain message (Error{"text"}) or with errno (Error{"text",
// ENODEV}); kind, column and hint are optional.
struct Error {
  std::string message; // complete, user-facing: "open x.pcap: No such file or directory"
  int errnum = 0;      // errno where one applies, else 0
  ErrorKind kind = ErrorKind::Unspecified;
  int column = 0;        // 1-based column in the filter expression (Filter); 0 = none
  std::string hint = {}; // what the user can do about it ("" = nothing to add); also in message
};

// The kind, derived from errnum when the error did not name one.
ErrorKind KindOf(const Error& error) noexcept;

// "op: strerror(errnum)" and, when given, "; hint". The kind follows errnum.
Error ErrnoError(std::string_view operation, int errnum, std::string_view hint = {});

// A filter error whose message starts "column N: ": kind Filter, column N.
Error FilterError(Error error);

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

// One pointer, null on success: a Status is returned for every packet a sink
// writes, and an Error held by value (two strings) made each success a
// 90-byte clear, a sizeable part of writing a small pcap record.
template <> class [[nodiscard]] Result<void> {
public:
  Result() noexcept = default;
  Result(Error error) : error_(std::make_unique<Error>(std::move(error))) {}
  Result(const Result& other)
      : error_(other.error_ ? std::make_unique<Error>(*other.error_) : nullptr) {}
  Result(Result&&) noexcept = default;
  Result& operator=(const Result& other) {
    if (this != &other) {
      error_ = other.error_ ? std::make_unique<Error>(*other.error_) : nullptr;
    }
    return *this;
  }
  Result& operator=(Result&&) noexcept = default;

  bool ok() const noexcept { return error_ == nullptr; }
  explicit operator bool() const noexcept { return ok(); }
  // A success has no error: an empty one, as before.
  const Error& error() const {
    static const Error none;
    return error_ ? *error_ : none;
  }

private:
  std::unique_ptr<Error> error_;
};

using Status = Result<void>;

} // namespace wgcap
