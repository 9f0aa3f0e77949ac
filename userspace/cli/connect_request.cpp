// SPDX-License-Identifier: Apache-2.0
#include "cli/connect_request.hpp"

#include <string_view>
#include <utility>

namespace wgcap::cli {
namespace {

// getopt_long's reading of a long option's name: exact, or the one option
// it is a prefix of. Null when unknown or ambiguous (the parse refused those).
const option* FindLongOption(std::string_view name) {
  const option* found = nullptr;
  int prefix_of = 0;
  for (const option& o : LongOptions()) {
    if (name == o.name) {
      return &o;
    }
    if (std::string_view(o.name).starts_with(name)) {
      found = &o;
      ++prefix_of;
    }
  }
  return prefix_of == 1 ? found : nullptr;
}

bool ShortOptionTakesValue(char c) {
  const std::string_view shorts = ShortOptions();
  const auto at = shorts.find(c, 1); // after the leading ':'
  return c != ':' && at != std::string_view::npos && at + 1 < shorts.size() &&
         shorts[at + 1] == ':';
}

// The words of a request, read one argv word at a time.
class RequestBuilder {
public:
  RequestBuilder(int argc, char** argv) : argc_(argc), argv_(argv) {}

  void Read() {
    bool operands = false;
    for (i_ = 1; i_ < argc_; ++i_) {
      const std::string_view word = argv_[i_];
      if (operands || word == "-" || !word.starts_with('-')) {
        expression.emplace_back(word);
      } else if (word == "--") {
        operands = true;
      } else if (word.starts_with("--")) {
        LongOption(word);
      } else {
        ShortCluster(word);
      }
    }
  }

  std::vector<std::string> out;
  std::vector<std::string> expression;

private:
  std::string NextWord() { return i_ + 1 < argc_ ? std::string(argv_[++i_]) : std::string(); }

  void LongOption(std::string_view word) {
    const std::size_t eq = word.find('=');
    const option* o = FindLongOption(word.substr(2, eq == std::string_view::npos ? eq : eq - 2));
    const bool value_follows =
        o != nullptr && o->has_arg == required_argument && eq == std::string_view::npos;
    if (o != nullptr && std::string_view(o->name) == "connect") {
      i_ += value_follows ? 1 : 0; // the daemon is not asked to connect onwards
      return;
    }
    out.emplace_back(word);
    if (value_follows) {
      out.push_back(NextWord());
    }
  }

  // "-nnvX", "-c5", "-nw" FILE: letters up to the first that takes a value,
  // which is the rest of the word or the next word.
  void ShortCluster(std::string_view word) {
    std::string cluster = "-";
    for (std::size_t j = 1; j < word.size(); ++j) {
      const char c = word[j];
      if (!ShortOptionTakesValue(c)) {
        cluster += c;
        continue;
      }
      const std::string value = j + 1 < word.size() ? std::string(word.substr(j + 1)) : NextWord();
      if (c == 'F') {
        break; // the client read the file; its expression is sent instead
      }
      out.push_back(cluster + c);
      out.push_back(c == 'w' ? "-" : value);
      return;
    }
    if (cluster != "-") {
      out.push_back(cluster);
    }
  }

  int argc_;
  char** argv_;
  int i_ = 1;
};

} // namespace

// The user's arguments without --connect, with -w FILE turned into -w - (this
// side writes the file; the daemon only streams), and -F FILE replaced by the
// expression read from it (the daemon reads no file for a client: it may see
// what the client may not). The file's format follows FILE's name, which the
// daemon no longer sees: --pcap says it (first, so that no "--" can make it
// an expression word).
std::vector<std::string> RequestArguments(const Arguments& args, int argc, char** argv) {
  RequestBuilder request(argc, argv);
  if (!args.write_file.empty() && !args.pcapng) {
    request.out.emplace_back("--pcap");
  }
  request.Read();
  std::vector<std::string> expression = std::move(request.expression);
  if (!args.filter_file.empty()) {
    // The file's expression replaces the arguments, as in tcpdump.
    expression.clear();
    if (!args.expression.empty()) {
      expression.push_back(args.expression);
    }
  }
  std::vector<std::string> out = std::move(request.out);
  if (!expression.empty()) {
    // Behind "--", so that a word starting with '-' stays part of it.
    out.emplace_back("--");
    out.insert(out.end(), expression.begin(), expression.end());
  }
  return out;
}

} // namespace wgcap::cli
