# SPDX-License-Identifier: Apache-2.0
# scripts/bench.sh's table: one row per (traffic, rate, tool, filter), each
# cell the median over repetitions, then the ratios the goals are stated in.
# Input, tab-separated, one line per run:
#   rep traffic rate tool filter backend sent seen captured lost_tool cpu_s seconds gen_rate
# A full-speed capture run's rate is compared with the mean of the
# no-capture runs next to it in the file (bench.sh runs one before and after).
# Plain POSIX awk (Debian's default is mawk): no asort.

# median, add, med, fmt: bench_median.awk

{
  rep = $1; traffic = $2; rate = $3; tool = $4; filter = $5
  key = traffic SUBSEP rate SUBSEP tool SUBSEP filter
  if (!(key in seen_key)) { seen_key[key] = 1; order[++nkeys] = key }
  backend[key] = $6
  dp = $12 > 0 ? $8 / $12 : 0 # packets through the interface per second
  add(key, "sent", $7); add(key, "seen", $8); add(key, "captured", $9)
  add(key, "lost", $10); add(key, "cpu", $11); add(key, "dp", dp)
  per_rep[key, rep, "dp"] = dp
  per_rep[key, rep, "captured"] = $9
  per_rep[key, rep, "cpu"] = $11
  per_rep[key, rep, "seen"] = $8
  reps[rep] = 1
  if (filter == "all") add(key, "lost_counted", $8 - $9)
  line_key[NR] = key; line_dp[NR] = dp; line_traffic[NR] = traffic
  line_base[NR] = (tool == "none" && rate == "full")
  if ($9 > 0) add(key, "cpu_per_cap", $11 / ($9 / 1e6))
  if ($8 > 0) add(key, "cpu_per_seen", $11 / ($8 / 1e6))
}

# The mean datapath rate of the no-capture runs of TRAFFIC nearest before
# and after line I, or "" when there is none.
function neighbour_base(i, traffic,    j, sum, n) {
  sum = 0; n = 0
  for (j = i - 1; j >= 1; j--) if (line_base[j] && line_traffic[j] == traffic) { sum += line_dp[j]; n++; break }
  for (j = i + 1; j <= NR; j++) if (line_base[j] && line_traffic[j] == traffic) { sum += line_dp[j]; n++; break }
  return n ? sum / n : ""
}

END {
  for (i = 1; i <= NR; i++) {
    split(line_key[i], p, SUBSEP)
    if (p[2] != "full" || p[3] == "none") continue
    b = neighbour_base(i, p[1])
    if (b != "" && b > 0) add(line_key[i], "vs_none", line_dp[i] / b)
  }
  hdr = "%-4s %-7s %-14s %-4s %10s %10s %10s %9s %9s %7s %8s %8s %8s %7s\n"
  row = "%-4s %-7s %-14s %-4s %10s %10s %10s %9s %9s %7s %8s %8s %8s %7s\n"
  printf hdr, "", "", "", "", "", "", "", "lost", "lost", "CPU", "CPU s/M", "CPU s/M", "rate", "rate vs"
  printf hdr, "flow", "rate", "tool", "filt", "sent", "seen", "captured", "(tool)", "(counted)", "s", "captured", "seen", "kpps", "none"
  for (k = 1; k <= nkeys; k++) {
    key = order[k]
    split(key, p, SUBSEP)
    printf row, p[1], p[2], (p[3] == "none" ? "no capture" : backend[key]), p[3] == "none" ? "-" : p[4],
      fmt(med(key, "sent"), "%d"), fmt(med(key, "seen"), "%d"),
      p[3] == "none" ? "-" : fmt(med(key, "captured"), "%d"),
      p[3] == "none" ? "-" : fmt(med(key, "lost"), "%d"),
      p[3] == "none" ? "-" : fmt(med(key, "lost_counted"), "%d"),
      p[3] == "none" ? "-" : fmt(med(key, "cpu"), "%.2f"),
      p[3] == "none" ? "-" : fmt(med(key, "cpu_per_cap"), "%.2f"),
      p[3] == "none" ? "-" : fmt(med(key, "cpu_per_seen"), "%.2f"),
      fmt(med(key, "dp") / 1000, "%.0f"),
      p[3] != "none" ? fmt(med(key, "vs_none"), "%.3f") : "-"
  }

  # The goals, as ratios of the same repetition's runs, then the median.
  print ""
  print "goals (median over repetitions of per-repetition ratios):"
  for (k = 1; k <= nkeys; k++) {
    key = order[k]
    split(key, p, SUBSEP)
    if (p[3] != "wgcap-bpf") continue
    other = p[1] SUBSEP p[2] SUBSEP "tcpdump" SUBSEP p[4]
    capr = ""; cpur = ""
    for (rep in reps) {
      if (!((other, rep, "captured") in per_rep)) continue
      c1 = per_rep[key, rep, "captured"]; c2 = per_rep[other, rep, "captured"]
      if (c2 > 0) capr = capr " " c1 / c2
      if (p[4] == "all" && c1 > 0 && c2 > 0 && per_rep[other, rep, "cpu"] > 0)
        cpur = cpur " " (per_rep[key, rep, "cpu"] / c1) / (per_rep[other, rep, "cpu"] / c2)
    }
    if (p[4] == "all") {
      printf "  %-4s %-7s bpf captured / tcpdump captured %6s (goal >= 1);" \
        " CPU per captured packet bpf / tcpdump %6s (goal <= 0.5)\n", p[1], p[2],
        fmt(median(capr), "%.3f"), fmt(median(cpur), "%.3f")
    } else if (p[2] == "full") {
      v = med(key, "vs_none")
      printf "  %-4s %-7s match-nothing datapath cost of bpf: %s of the no-capture rate (goal < 2%%)\n",
        p[1], p[2], v == "" ? "-" : sprintf("%.1f%%", (1 - v) * 100)
    }
  }
}
