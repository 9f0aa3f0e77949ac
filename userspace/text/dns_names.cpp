// SPDX-License-Identifier: Apache-2.0
#include "text/dns_names.hpp"

#include <algorithm>
#include <iterator>

#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

struct Name {
  std::uint16_t value;
  const char* name;
};

// Sorted by value.
constexpr Name kTypes[] = {
    {1, "A"},           {2, "NS"},          {3, "MD"},        {4, "MF"},      {5, "CNAME"},
    {6, "SOA"},         {7, "MB"},          {8, "MG"},        {9, "MR"},      {10, "NULL"},
    {11, "WKS"},        {12, "PTR"},        {13, "HINFO"},    {14, "MINFO"},  {15, "MX"},
    {16, "TXT"},        {17, "RP"},         {18, "AFSDB"},    {19, "X25"},    {20, "ISDN"},
    {21, "RT"},         {22, "NSAP"},       {23, "NSAP_PTR"}, {24, "SIG"},    {25, "KEY"},
    {26, "PX"},         {27, "GPOS"},       {28, "AAAA"},     {29, "LOC"},    {30, "NXT"},
    {31, "EID"},        {32, "NIMLOC"},     {33, "SRV"},      {34, "ATMA"},   {35, "NAPTR"},
    {36, "KX"},         {37, "CERT"},       {38, "A6"},       {39, "DNAME"},  {40, "SINK"},
    {41, "OPT"},        {42, "APL"},        {43, "DS"},       {44, "SSHFP"},  {45, "IPSECKEY"},
    {46, "RRSIG"},      {47, "NSEC"},       {48, "DNSKEY"},   {49, "DHCID"},  {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},       {53, "SMIMEA"},   {55, "HIP"},    {59, "CDS"},
    {60, "CDNSKEY"},    {61, "OPENPGPKEY"}, {62, "CSYNC"},    {63, "ZONEMD"}, {64, "SVCB"},
    {65, "HTTPS"},      {99, "SPF"},        {249, "TKEY"},    {250, "TSIG"},  {251, "IXFR"},
    {252, "AXFR"},      {253, "MAILB"},     {254, "MAILA"},   {255, "ANY"},   {256, "URI"},
    {257, "CAA"},
};

constexpr Name kRcodes[] = {
    {1, "FormErr"},    {2, "ServFail"}, {3, "NXDomain"},  {4, "NotImp"},     {5, "Refused"},
    {6, "YXDomain"},   {7, "YXRRSet"},  {8, "NXRRSet"},   {9, "NotAuth"},    {10, "NotZone"},
    {11, "DSOTYPENI"}, {16, "BADVERS"}, {17, "BADKEY"},   {18, "BADTIME"},   {19, "BADMODE"},
    {20, "BADNAME"},   {21, "BADALG"},  {22, "BADTRUNC"}, {23, "BADCOOKIE"},
};

constexpr const char* kEde[] = {
    "OtherError",
    "UnsupportedDNSKEYAlgorithm",
    "UnsupportedDSDigestType",
    "StaleAnswer",
    "ForgedAnswer",
    "DNSSECIndeterminate",
    "DNSSECBogus",
    "SignatureExpired",
    "SignatureNotYetValid",
    "DNSKEYMissing",
    "RRSIGsMissing",
    "NoZoneKeyBitSet",
    "NSECMissing",
    "CachedError",
    "NotReady",
    "Blocked",
    "Censored",
    "Filtered",
    "Prohibited",
    "StaleNXDOMAINAnswer",
    "NotAuthoritative",
    "NotSupported",
    "NoReachableAuthority",
    "NetworkError",
    "InvalidData",
    "SignatureExpiredBeforeValid",
    "TooEarly",
    "UnsupportedNSEC3IterationsValue",
    "UnableToConformToPolicy",
    "Synthesized",
    "InvalidQueryType",
};

template <std::size_t N> const char* Lookup(const Name (&table)[N], unsigned value) {
  const auto it = std::lower_bound(std::begin(table), std::end(table), value,
                                   [](const Name& n, unsigned v) { return n.value < v; });
  return it != std::end(table) && it->value == value ? it->name : nullptr;
}

} // namespace

void AppendDnsTypeName(std::string& line, std::uint16_t type) {
  if (const char* name = Lookup(kTypes, type)) {
    line += name;
  } else {
    Appendf(line, "Type%u", type);
  }
}

void AppendDnsRcodeName(std::string& line, unsigned rcode) {
  if (const char* name = Lookup(kRcodes, rcode)) {
    line += name;
  } else {
    Appendf(line, "rcode %u", rcode);
  }
}

void AppendDnsEdeName(std::string& line, std::uint16_t code) {
  if (code < std::size(kEde)) {
    line += kEde[code];
  } else {
    Appendf(line, "%u", code);
  }
}

void AppendDnsOpcode(std::string& line, unsigned opcode) {
  static constexpr const char* kOpcodes[16] = {
      "",     " inv_q", " stat", " op3",  " notify", " update", " op6",  " op7",
      " op8", " op9",   " op10", " op11", " op12",   " op13",   " op14", " op15",
  };
  line += kOpcodes[opcode & 0xf];
}

} // namespace wgcap::text
