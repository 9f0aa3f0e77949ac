// SPDX-License-Identifier: Apache-2.0
#include "cli/arguments.hpp"

#include <getopt.h>

#include <charconv>
#include <mutex>
#include <string_view>

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
    {nullptr, 0, nullptr, 0},
};

Error Usage(std::string message) {
  return Error{std::move(message), 0};
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
    case 'l':
      args.line_buffered = true;
      break;
    case 'Q':
      if (value == "in") {
        args.hooks = Hooks::In;
      } else if (value == "out") {
        args.hooks = Hooks::Out;
      } else if (value == "inout") {
        args.hooks = Hooks::InOut;
      } else {
        return Usage("-Q: unknown direction \"" + std::string(value) +
                     "\" (expected in, out or inout)");
      }
      break;
    case 'D':
      args.list_interfaces = true;
      break;
    case 'F':
      if (value.empty()) {
        return Usage("-F: empty file name");
      }
      args.filter_file = value;
      break;
    case 'Z':
      if (value.empty()) {
        return Usage("-Z: empty user name");
      }
      args.drop_user = value;
      break;
    case kTimeStampPrecision:
      if (value == "micro") {
        args.time_stamp_nano = false;
      } else if (value == "nano") {
        args.time_stamp_nano = true;
      } else {
        return Usage("--time-stamp-precision: unknown precision \"" + std::string(value) +
                     "\" (expected micro or nano)");
      }
      break;
    case kPcap:
      args.pcap = true;
      break;
    case 'i':
      if (value.empty()) {
        return Usage("-i: empty interface name");
      }
      args.interface = value;
      break;
    case 'r':
      if (value.empty()) {
        return Usage("-r: empty file name");
      }
      args.read_file = value;
      break;
    case 'B': {
      std::int64_t mib = 0;
      if (!ParseDecimal(value, mib) || mib < 1 || mib > 4096) {
        return Usage("-B: invalid buffer size \"" + std::string(value) +
                     "\" (expected 1-4096 MiB)");
      }
      args.buffer_mib = static_cast<std::uint32_t>(mib);
      break;
    }
    case 'd':
      args.dump = true;
      break;
    case kMode:
      if (value == "auto") {
        args.mode = Mode::Auto;
      } else if (value == "bpf") {
        args.mode = Mode::Bpf;
      } else if (value == "afpacket") {
        args.mode = Mode::AFPacket;
      } else {
        return Usage("--mode: unknown mode \"" + std::string(value) +
                     "\" (expected auto, bpf or afpacket)");
      }
      break;
    case 'C': {
      std::uint64_t mb = 0;
      if (!ParseDecimal(value, mb) || mb == 0 || mb > (1u << 20)) {
        return Usage("-C: invalid file size \"" + std::string(value) +
                     "\" (expected MB, 1-1048576)");
      }
      args.rotation.max_bytes = mb * 1000000; // tcpdump's -C counts millions of bytes
      break;
    }
    case 'G':
      if (!ParseDecimal(value, args.rotation.max_seconds) || args.rotation.max_seconds <= 0) {
        return Usage("-G: invalid rotation period \"" + std::string(value) +
                     "\" (expected seconds)");
      }
      break;
    case 'W':
      if (!ParseDecimal(value, args.rotation.max_files) || args.rotation.max_files == 0) {
        return Usage("-W: invalid file count \"" + std::string(value) +
                     "\" (expected a positive integer)");
      }
      break;
    case kConnect:
      args.connect = value;
      break;
    case kStats:
      args.stats = true;
      break;
    case kParityCheck:
      args.parity_check = true;
      break;
    case kPcapng:
      args.pcapng = true;
      break;
    case kDuration:
      if (!ParseDurationMs(value, args.duration_ms)) {
        return Usage("--duration: invalid duration \"" + std::string(value) +
                     "\" (expected a positive number with s, m, h or ms, e.g. 30s)");
      }
      break;
    case 'w':
      if (value.empty()) {
        return Usage("-w: empty file name");
      }
      args.write_file = value;
      break;
    case 'c':
      if (!ParseDecimal(value, args.count) || args.count <= 0) {
        return Usage("-c: invalid packet count \"" + std::string(value) +
                     "\" (expected a positive integer)");
      }
      break;
    case 's': {
      std::int64_t snaplen = 0;
      if (!ParseDecimal(value, snaplen) || snaplen < 0 || snaplen > kMaxSnaplen) {
        return Usage("-s: invalid snap length \"" + std::string(value) + "\" (expected 0-" +
                     std::to_string(kMaxSnaplen) + "; 0 means 65535)");
      }
      args.snaplen = snaplen == 0 ? kDefaultSnaplen : static_cast<std::uint32_t>(snaplen);
      break;
    }
    case 'U':
      args.unbuffered = true;
      break;
    case 'v': // -vv and -vvv mean -v
      args.text.verbose = true;
      break;
    case 'A':
      args.text.ascii = true;
      break;
    case 'h':
      args.help = true;
      break;
    case kPrint:
      args.print = true;
      break;
    case kVersion:
      args.version = true;
      break;
    case ':':
      return Usage("option " + RefusedOption(argv, optind_before, optopt) + " needs a value");
    default: {
      const std::string name = RefusedOption(argv, optind_before, optopt);
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
    }
    optind_before = optind;
  }
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
  if (args.help || args.version) {
    return args;
  }
  if (!args.interface.empty() && !args.read_file.empty()) {
    return Usage("-i and -r exclude each other: capture live or read a file");
  }
  if (args.list_interfaces) {
    return args; // -D lists the interfaces; nothing else applies
  }
  if (args.dump) {
    return args; // -d prints the compiled filter; no capture source needed
  }
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
  return args;
}

} // namespace wgcap::cli
