// SPDX-License-Identifier: Apache-2.0
#include "cli/arguments.hpp"

#include <getopt.h>

#include <charconv>
#include <mutex>
#include <string_view>

#include "cli/interface_selection.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap::cli {
namespace {

enum LongOnly {
  kPrint = 256,
  kVersion,
  kMode,
  kDuration,
  kParityCheck,
  kPcapng,
  kPcap,
  kStats,
  kConnect,
  kTimeStampPrecision,
  kWgPeers,
};

constexpr const char* kShortOptionString = ":i:r:w:c:s:B:C:G:W:UvAdhnNtxXeqSlQ:DF:Z:p#";

constexpr option kLongOptions[] = {
    {"help", no_argument, nullptr, 'h'},
    {"print", no_argument, nullptr, kPrint},
    {"version", no_argument, nullptr, kVersion},
    {"mode", required_argument, nullptr, kMode},
    {"duration", required_argument, nullptr, kDuration},
    {"parity-check", no_argument, nullptr, kParityCheck},
    {"stats", no_argument, nullptr, kStats},
    {"pcapng", no_argument, nullptr, kPcapng},
    {"pcap", no_argument, nullptr, kPcap},
    {"number", no_argument, nullptr, '#'},
    {"list-interfaces", no_argument, nullptr, 'D'},
    {"time-stamp-precision", required_argument, nullptr, kTimeStampPrecision},
    {"connect", required_argument, nullptr, kConnect},
    {"wg-peers", required_argument, nullptr, kWgPeers},
    {nullptr, 0, nullptr, 0},
};

Error Usage(std::string message) {
  return Error{std::move(message), 0, ErrorKind::Usage};
}

// The option getopt_long just refused, as the user spelled it. A long option
// is a whole argument, which the refusing call moved optind past; a short one
// may sit in a cluster ("-vc", "-Zv"), where argv[optind - 1] is another
// argument, so it is named by its letter.
std::string RefusedOption(char** argv, int optind_before, int code) {
  const std::string_view arg = optind > 0 ? argv[optind - 1] : "";
  if (optind != optind_before && arg.starts_with("--")) {
    return std::string(arg.substr(0, arg.find('=')));
  }
  if (code > 0 && code < 256) {
    return std::string("-") + static_cast<char>(code);
  }
  return std::string(arg);
}

// getopt_long reports "--p" (a prefix of several long options) like an
// unknown option; the names it could mean make the message useful.
std::string LongOptionsStartingWith(std::string_view prefix) {
  std::string names;
  int count = 0;
  for (const option& o : kLongOptions) {
    if (o.name != nullptr && std::string_view(o.name).starts_with(prefix)) {
      names += (count++ == 0 ? "--" : ", --") + std::string(o.name);
    }
  }
  return count > 1 ? names : std::string();
}

} // namespace

std::string_view ShortOptions() {
  return kShortOptionString;
}

std::span<const option> LongOptions() {
  return std::span(kLongOptions, std::size(kLongOptions) - 1); // without the {} end mark
}

// "30s", "5m", "1h", "250ms"; a bare number is seconds.
bool ParseDurationMs(std::string_view text, std::int64_t& ms) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  std::int64_t n = 0;
  if (digits == 0 || digits > 9 || !ParseDecimal(text.substr(0, digits), n)) {
    return false;
  }
  const std::string_view unit = text.substr(digits);
  std::int64_t scale;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 3600 * 1000;
  } else {
    return false;
  }
  ms = n * scale;
  return ms > 0;
}

bool ParseByteSize(std::string_view text, std::uint64_t& bytes) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
    case 'K':
    case 'k':
      scale = 1ull << 10;
      break;
    case 'M':
    case 'm':
      scale = 1ull << 20;
      break;
    case 'G':
    case 'g':
      scale = 1ull << 30;
      break;
    default:
      break;
    }
    if (scale != 1) {
      text.remove_suffix(1);
    }
  }
  std::uint64_t n = 0;
  if (!ParseDecimal(text, n) || n == 0 || n > (1ull << 50) / scale) {
    return false;
  }
  bytes = n * scale;
  return true;
}

namespace {

// What an Apply* function did with an option: not its kind (kNotMine, the
// next one is asked), taken, or refused with the error.
enum class Applied { kNotMine, kTaken };

// Options without a value.
Result<Applied> ApplyFlag(int opt, Arguments& args, int& t_flags) {
  switch (opt) {
  case 'n': // wgcap never resolves names
  case 'N':
  case 'p': // no promiscuous mode on an L3 device
    break;
  case 't':
    if (++t_flags > 5) {
      return Usage("-t: given more than 5 times (-t, -tt, -ttt, -tttt and -ttttt exist)");
    }
    break;
  case 'x':
    if (args.text.hex == HexDump::None) {
      args.text.hex = HexDump::Hex;
    }
    break;
  case 'X':
    args.text.hex = HexDump::HexAscii;
    break;
  case 'e':
    args.text.interface_name = true;
    break;
  case 'q':
    args.text.quiet = true;
    break;
  case 'S':
    args.text.absolute_sequence = true;
    break;
  case '#':
    args.text.number = true;
    break;
  case 'v': // -vv and -vvv mean -v
    args.text.verbose = true;
    break;
  case 'A':
    args.text.ascii = true;
    break;
  default:
    return Applied::kNotMine;
  }
  return Applied::kTaken;
}

// Options without a value that choose what wgcap does.
Applied ApplyModeFlag(int opt, Arguments& args) {
  bool* const flag = opt == 'l'            ? &args.line_buffered
                     : opt == 'D'          ? &args.list_interfaces
                     : opt == 'd'          ? &args.dump
                     : opt == 'U'          ? &args.unbuffered
                     : opt == 'h'          ? &args.help
                     : opt == kPrint       ? &args.print
                     : opt == kVersion     ? &args.version
                     : opt == kPcap        ? &args.pcap
                     : opt == kPcapng      ? &args.pcapng
                     : opt == kStats       ? &args.stats
                     : opt == kParityCheck ? &args.parity_check
                                           : nullptr;
  if (flag == nullptr) {
    return Applied::kNotMine;
  }
  *flag = true;
  return Applied::kTaken;
}

// Options naming a file, an interface, a user or a socket.
Result<Applied> ApplyName(int opt, std::string_view value, Arguments& args) {
  std::string* target = nullptr;
  const char* what = "";
  switch (opt) {
  case 'i':
    target = &args.interface, what = "-i: empty interface name";
    break;
  case 'r':
    target = &args.read_file, what = "-r: empty file name";
    break;
  case 'w':
    target = &args.write_file, what = "-w: empty file name";
    break;
  case 'F':
    target = &args.filter_file, what = "-F: empty file name";
    break;
  case 'Z':
    target = &args.drop_user, what = "-Z: empty user name";
    break;
  case kWgPeers:
    target = &args.wg_peers, what = "--wg-peers: empty file name";
    break;
  case kConnect:
    args.connect = value;
    return Applied::kTaken;
  default:
    return Applied::kNotMine;
  }
  if (value.empty()) {
    return Usage(what);
  }
  *target = value;
  return Applied::kTaken;
}

// Options choosing one of a few words.
Result<Applied> ApplyChoice(int opt, std::string_view value, Arguments& args) {
  const std::string quoted = "\"" + std::string(value) + "\"";
  switch (opt) {
  case 'Q':
    if (value != "in" && value != "out" && value != "inout") {
      return Usage("-Q: unknown direction " + quoted + " (expected in, out or inout)");
    }
    args.hooks = value == "in" ? Hooks::In : value == "out" ? Hooks::Out : Hooks::InOut;
    return Applied::kTaken;
  case kTimeStampPrecision:
    if (value != "micro" && value != "nano") {
      return Usage("--time-stamp-precision: unknown precision " + quoted +
                   " (expected micro or nano)");
    }
    args.time_stamp_nano = value == "nano";
    return Applied::kTaken;
  case kMode:
    if (value != "auto" && value != "bpf" && value != "afpacket") {
      return Usage("--mode: unknown mode " + quoted + " (expected auto, bpf or afpacket)");
    }
    args.mode = value == "bpf" ? Mode::Bpf : value == "afpacket" ? Mode::AFPacket : Mode::Auto;
    return Applied::kTaken;
  default:
    return Applied::kNotMine;
  }
}

// Options taking a number or a duration.
Result<Applied> ApplyNumber(int opt, std::string_view value, Arguments& args) {
  const std::string quoted = "\"" + std::string(value) + "\"";
  std::int64_t n = 0;
  std::uint64_t u = 0;
  switch (opt) {
  case 'B':
    if (!ParseDecimal(value, n) || n < 1 || n > 4096) {
      return Usage("-B: invalid buffer size " + quoted + " (expected 1-4096 MiB)");
    }
    args.buffer_mib = static_cast<std::uint32_t>(n);
    break;
  case 'C':
    if (!ParseDecimal(value, u) || u == 0 || u > (1u << 20)) {
      return Usage("-C: invalid file size " + quoted + " (expected MB, 1-1048576)");
    }
    args.rotation.max_bytes = u * 1000000; // tcpdump's -C counts millions of bytes
    break;
  case 'G':
    if (!ParseDecimal(value, args.rotation.max_seconds) || args.rotation.max_seconds <= 0) {
      return Usage("-G: invalid rotation period " + quoted + " (expected seconds)");
    }
    break;
  case 'W':
    if (!ParseDecimal(value, args.rotation.max_files) || args.rotation.max_files == 0) {
      return Usage("-W: invalid file count " + quoted + " (expected a positive integer)");
    }
    break;
  case 'c':
    if (!ParseDecimal(value, args.count) || args.count <= 0) {
      return Usage("-c: invalid packet count " + quoted + " (expected a positive integer)");
    }
    break;
  case 's':
    if (!ParseDecimal(value, n) || n < 0 || n > kMaxSnaplen) {
      return Usage("-s: invalid snap length " + quoted + " (expected 0-" +
                   std::to_string(kMaxSnaplen) + "; 0 means 65535)");
    }
    args.snaplen = n == 0 ? kDefaultSnaplen : static_cast<std::uint32_t>(n);
    break;
  case kDuration:
    if (!ParseDurationMs(value, args.duration_ms)) {
      return Usage("--duration: invalid duration " + quoted +
                   " (expected a positive number with s, m, h or ms, e.g. 30s)");
    }
    break;
  default:
    return Applied::kNotMine;
  }
  return Applied::kTaken;
}

// An option getopt_long refused: missing value, unknown, ambiguous.
Error Refused(int opt, char** argv, int optind_before) {
  const std::string name = RefusedOption(argv, optind_before, optopt);
  if (opt == ':') {
    return Usage("option " + name + " needs a value");
  }
  if (name.starts_with("--")) {
    if (optopt != 0) {
      // A long option that takes no value was given one ("--print=1").
      return Usage("option " + name + " takes no value");
    }
    if (const std::string could = LongOptionsStartingWith(name.substr(2)); !could.empty()) {
      return Usage("ambiguous option " + name + " (could be " + could + ")");
    }
  }
  return Usage("unknown option " + name);
}

Status ApplyOption(int opt, std::string_view value, Arguments& args, int& t_flags) {
  if (ApplyModeFlag(opt, args) == Applied::kTaken) {
    return {};
  }
  Result<Applied> applied = ApplyFlag(opt, args, t_flags);
  if (applied && applied.value() == Applied::kNotMine) {
    applied = ApplyName(opt, value, args);
  }
  if (applied && applied.value() == Applied::kNotMine) {
    applied = ApplyChoice(opt, value, args);
  }
  if (applied && applied.value() == Applied::kNotMine) {
    applied = ApplyNumber(opt, value, args);
  }
  if (!applied) {
    return applied.error();
  }
  return applied.value() == Applied::kTaken ? Status{} : Status(Error{"", 0, ErrorKind::Usage});
}

// What the options imply once all are read: the -t layout, the file format,
// the expression from the remaining words.
void Complete(Arguments& args, int t_flags, int argc, char** argv) {
  constexpr TimeStamp kByCount[] = {TimeStamp::TimeOfDay, TimeStamp::None,
                                    TimeStamp::Epoch,     TimeStamp::SincePrevious,
                                    TimeStamp::DateTime,  TimeStamp::SinceFirst};
  args.text.time = kByCount[t_flags];
  args.text.nanoseconds = args.time_stamp_nano;
  // pcapng unless asked otherwise: it keeps the direction, the filter and
  // the loss counts, which pcap has no place for.
  if (!args.write_file.empty() && !args.pcap && !args.pcapng) {
    args.pcapng = !args.write_file.ends_with(".pcap");
  }
  for (int i = optind; i < argc; ++i) {
    if (!args.expression.empty()) {
      args.expression += ' ';
    }
    args.expression += argv[i];
  }
}

// Options that exclude or need each other, for a capture to run.
Status CheckCaptureCombination(const Arguments& args) {
  if (args.parity_check && args.read_file.empty()) {
    return Usage(
        "--parity-check needs -r FILE (it runs the file's packets through every evaluator)");
  }
  const bool rotating =
      args.rotation.max_bytes > 0 || args.rotation.max_seconds > 0 || args.rotation.max_files > 0;
  if (rotating && (args.write_file.empty() || args.write_file == "-")) {
    return Usage("-C, -G and -W rotate files: give -w FILE as the base name");
  }
  if (!args.connect.empty() && args.interface.empty()) {
    return Usage("--connect captures live through wgcap serve: give -i IFACE");
  }
  if (!args.connect.empty() && !args.drop_user.empty()) {
    return Usage("-Z has no use with --connect: the client holds no privileges to drop");
  }
  if (!args.connect.empty() && rotating) {
    return Usage("-C, -G and -W are not available with --connect");
  }
  if (args.interface.empty() && args.read_file.empty()) {
    return Usage("nothing to capture: give -i IFACE or -r FILE");
  }
  if (auto names = SplitInterfaceList(args.interface); !args.interface.empty() && !names) {
    return names.error(); // "-i: empty interface name in 'wg0,'"
  }
  if (!args.wg_peers.empty() && args.read_file.empty()) {
    return Usage("--wg-peers gives the peers of a file read with -r; a live capture (-i) reads "
                 "its interface's own peers");
  }
  if (!args.read_file.empty() && args.duration_ms > 0) {
    return Usage("--duration applies to live capture (-i), not to -r");
  }
  if (args.pcap && args.pcapng) {
    return Usage("--pcap and --pcapng exclude each other: choose one file format");
  }
  if (args.pcap && args.write_file.empty()) {
    return Usage("--pcap needs -w FILE (without -w the output is text)");
  }
  if (args.pcapng && args.write_file.empty()) {
    return Usage("--pcapng needs -w FILE (without -w the output is text)");
  }
  if (args.write_file == "-" && args.print) {
    return Usage("--print and -w - both want stdout; write the capture to a file or drop --print");
  }
  return {};
}

} // namespace

Result<Arguments> ParseArguments(int argc, char** argv) {
  // getopt's state is process-global and `wgcap serve` parses each client's
  // request on that client's thread: one parse at a time.
  static std::mutex getopt_mutex;
  const std::lock_guard lock(getopt_mutex);
  Arguments args;
  opterr = 0; // our own messages name the option
  // 0, not 1: glibc then also forgets its place inside an option cluster.
  // After an error in the middle of one ("-qv"), `optind = 1` left it
  // pointing into the previous argv, so the next request parsed options it
  // never had (`wgcap serve` parses many requests in one process).
  optind = 0;
  int opt;
  int optind_before = optind; // where the next getopt_long call starts
  int t_flags = 0;            // -t given this many times
  while ((opt = getopt_long(argc, argv, kShortOptionString, kLongOptions, nullptr)) != -1) {
    const std::string_view value = optarg != nullptr ? optarg : "";
    if (opt == ':' || opt == '?') {
      return Refused(opt, argv, optind_before);
    }
    if (Status applied = ApplyOption(opt, value, args, t_flags); !applied) {
      return applied.error().message.empty() ? Refused(opt, argv, optind_before) : applied.error();
    }
    optind_before = optind;
  }
  Complete(args, t_flags, argc, argv);
  if (args.help || args.version) {
    return args;
  }
  if (!args.interface.empty() && !args.read_file.empty()) {
    return Usage("-i and -r exclude each other: capture live or read a file");
  }
  if (args.list_interfaces || args.dump) {
    return args; // -D lists the interfaces, -d prints the compiled filter: no source needed
  }
  if (Status combination = CheckCaptureCombination(args); !combination) {
    return combination.error();
  }
  return args;
}

} // namespace wgcap::cli
