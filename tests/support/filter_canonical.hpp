// SPDX-License-Identifier: Apache-2.0
// For parser tests: an expression's canonical text, a refused one's error,
// and a row pairing a form with its explicit spelling (both must parse to
// the same tree).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "wgcap/filter_parser.hpp"

namespace wgcap::test {

// ToString of the parsed tree; a parse error fails the test and is returned
// as "<error: MESSAGE>" so the comparison shows it.
inline std::string Canonical(const std::string& text) {
  auto expr = ParseFilterExpression(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << (expr.ok() ? "" : expr.error().message);
  return expr.ok() ? ToString(*expr) : "<error: " + expr.error().message + ">";
}

// The parse error's message; a text that parses fails the test and is
// returned as "<parsed>".
inline std::string ErrorOf(const std::string& text) {
  auto expr = ParseFilterExpression(text);
  EXPECT_FALSE(expr.ok()) << text << " parsed as " << (expr.ok() ? ToString(*expr) : "");
  return expr.ok() ? "<parsed>" : expr.error().message;
}

struct Same {
  const char* sugar;
  const char* explicit_form;
};

} // namespace wgcap::test
