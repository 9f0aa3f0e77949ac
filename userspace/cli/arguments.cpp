// SPDX-License-Identifier: Apache-2.0
#include "cli/arguments.hpp"

#include <getopt.h>

#include <charconv>
#include <string_view>

#include "wgcap/pcap_writer.hpp"

namespace wgcap::cli {
namespace {

enum LongOnly { kPrint = 256, kVersion };

constexpr option kLongOptions[] = {
    {"help", no_argument, nullptr, 'h'},
    {"print", no_argument, nullptr, kPrint},
    {"version", no_argument, nullptr, kVersion},
    {nullptr, 0, nullptr, 0},
};

template <typename T> bool ParseInteger(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

Error Usage(std::string message) {
  return Error{std::move(message), 0};
}

} // namespace

Result<Arguments> ParseArguments(int argc, char** argv) {
  Arguments args;
  opterr = 0; // our own messages name the option
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":r:w:c:s:Uh", kLongOptions, nullptr)) != -1) {
    const std::string_view value = optarg != nullptr ? optarg : "";
    switch (opt) {
    case 'r':
      args.read_file = value;
      break;
    case 'w':
      args.write_file = value;
      break;
    case 'c':
      if (!ParseInteger(value, args.count) || args.count <= 0) {
        return Usage("-c: invalid packet count \"" + std::string(value) +
                     "\" (expected a positive integer)");
      }
      break;
    case 's': {
      std::int64_t snaplen = 0;
      if (!ParseInteger(value, snaplen) || snaplen < 0 || snaplen > kMaxSnaplen) {
        return Usage("-s: invalid snap length \"" + std::string(value) + "\" (expected 0-" +
                     std::to_string(kMaxSnaplen) + "; 0 means 65535)");
      }
      args.snaplen = snaplen == 0 ? kDefaultSnaplen : static_cast<std::uint32_t>(snaplen);
      break;
    }
    case 'U':
      args.unbuffered = true;
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
      return Usage(std::string("option ") + argv[optind - 1] + " needs a value");
    default: {
      const std::string name = optopt != 0 ? std::string("-") + static_cast<char>(optopt)
                                           : std::string(argv[optind - 1]);
      return Usage("unknown option " + name);
    }
    }
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
  if (args.read_file.empty()) {
    return Usage(
        "nothing to read: give -r FILE (live capture with -i arrives with the capture backends)");
  }
  if (args.write_file == "-" && args.print) {
    return Usage("--print and -w - both want stdout; write the capture to a file or drop --print");
  }
  return args;
}

std::string HelpText() {
  return R"(usage: wgcap -r FILE [options] [expression ...]

Reads captured packets, keeps those the filter expression selects and writes
them as pcap or as one line of text per packet.

options:
  -r FILE      read a pcap file ("-" = stdin); Ethernet and Linux cooked
               captures are reduced to their IP packets
  -w FILE      write pcap to FILE ("-" = stdout); FILE appears only when
               complete. Without -w, text goes to stdout
  --print      print text to stdout even with -w FILE
  -c N         stop after N packets written
  -s N         snap length: bytes kept per packet (0 = 65535, at most 262144)
  -U           flush the output after every packet
  -h, --help   this text
  --version    print the version

expression (tcpdump-like; "and" binds tighter than "or"):
  host IP | net PREFIX | port N | portrange N-M     (prefix with src or dst)
  tcp | udp | icmp | icmp6 | ip | ip6 | proto N | less N | greater N
  not / !, and / &&, or / ||, parentheses; juxtaposition means "and"

examples:
  wgcap -r in.pcap 'tcp and (port 443 or port 80)'
  wgcap -r in.pcap -w dns.pcap udp port 53
  wgcap -r in.pcap -c 10 'src net 198.51.100.0/24 and not icmp'

exit status: 0 done, 1 runtime failure, 2 usage or filter error
)";
}

} // namespace wgcap::cli
