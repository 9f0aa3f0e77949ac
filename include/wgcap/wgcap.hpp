// SPDX-License-Identifier: Apache-2.0
// The whole public API of libwgcap in one include. The data flows one way:
//   source (OpenCapture: bpf ring or AF_PACKET; or a pcap file)
//     -> Session (Matcher from ParseFilter, Stats)
//     -> sinks (PcapWriter, PcapngWriter, TextWriter over a ByteWriter).
#pragma once

#include "wgcap/byte_writer.hpp"   // ByteWriter: files, memory, fds
#include "wgcap/capture.hpp"       // OpenCapture, CaptureOptions, Capture
#include "wgcap/filter_ast.hpp"    // FilterExpression: the parsed expression
#include "wgcap/filter_parser.hpp" // ParseFilter, ParseFilterExpression
#include "wgcap/ip_address.hpp"    // IpAddress
#include "wgcap/matcher.hpp"       // Matcher, Filter, PeerDirectory
#include "wgcap/packet_parse.hpp"  // ParsePacket, ParsedPacket
#include "wgcap/packet_sink.hpp"   // Direction, PacketRecord, PacketSink
#include "wgcap/pcap_writer.hpp"   // PcapWriter, PcapngWriter
#include "wgcap/result.hpp"        // Result, Status, Error, ErrorKind
#include "wgcap/session.hpp"       // Session, Options, Stats
#include "wgcap/text_writer.hpp"   // TextWriter, TextOptions
