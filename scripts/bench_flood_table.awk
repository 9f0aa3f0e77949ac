# SPDX-License-Identifier: Apache-2.0
# `scripts/bench.sh flood`'s table: what capturing costs per packet on the
# TUN full-speed flood, one row per (tool, filter), each cell the median over
# repetitions of a per-run figure. Input, tab-separated, one line per run:
#   1 rep  2 traffic  3 rate  4 tool  5 filter  6 backend  7 sent  8 seen
#   9 captured  10 lost_tool  11 tool_cpu_s  12 seconds  13 gen_rate
#   14 machine_busy_s  15 machine_idle_s  16 window_s  17 received_by_filter
#   18 dropped_by_kernel  19 dropped_by_buffer  20 injector_cpu_s
# "Above none" compares a capture run with the mean of the no-capture runs
# just before and after it in the file (bench.sh runs one on each side),
# because the machine's other load drifts over minutes.
# Plain POSIX awk (Debian's default is mawk): no asort.

# median, add, med, fmt: bench_median.awk

$2 == "tun" && $3 == "full" {
  n++
  tool[n] = $4; filt[n] = $5; key[n] = $4 SUBSEP $5
  if (!(key[n] in seen_key)) { seen_key[key[n]] = 1; order[++nkeys] = key[n]; backend[key[n]] = $6 }
  per_m = $8 / 1e6
  dp[n] = $12 > 0 ? $8 / $12 : 0                        # packets through the interface per second
  rate[n] = $16 > 0 ? $14 / $16 : ""                      # machine CPU-s per second
  mach_m[n] = per_m > 0 ? $14 / per_m : ""                # machine CPU-s per million seen
  # The flood path: the injector's writes (taps and TC programs run inside
  # them) plus the capture tool's own process.
  path_m[n] = (per_m > 0 && $20 != "-") ? ($20 + $11) / per_m : ""
  if ($4 == "none") {
    if ($14 + $15 > 0) idle = idle " " $15 / ($14 + $15)
  } else {
    if ($5 == "all" && $8 > 0) add(key[n], "frac", $9 / $8)
    if ($9 > 0) add(key[n], "own_m", $11 / ($9 / 1e6))
    accounted_runs[key[n]]++
    if ($9 + $18 + $19 == $17) accounted_ok[key[n]]++
  }
  add(key[n], "seen", $8); add(key[n], "kpps", dp[n] / 1000); add(key[n], "captured", $9)
  add(key[n], "received", $17); add(key[n], "lost_k", $18); add(key[n], "lost_b", $19)
  add(key[n], "rate", rate[n]); add(key[n], "mach_m", mach_m[n]); add(key[n], "path_m", path_m[n])
}

# The mean of FIELD over the no-capture runs nearest before and after run I.
function neighbours(i, field,    j, sum, k) {
  sum = 0; k = 0
  for (j = i - 1; j >= 1; j--) if (tool[j] == "none") { if (field[j] != "") { sum += field[j]; k++ }; break }
  for (j = i + 1; j <= n; j++) if (tool[j] == "none") { if (field[j] != "") { sum += field[j]; k++ }; break }
  return k ? sum / k : ""
}

function above(i, field, out,    b) {
  b = neighbours(i, field)
  if (b != "" && field[i] != "") add(key[i], out, field[i] - b)
}

END {
  for (i = 1; i <= n; i++) {
    if (tool[i] == "none") continue
    b = neighbours(i, dp)
    if (b != "" && b > 0) add(key[i], "kept", dp[i] / b)
    above(i, rate, "rate_plus"); above(i, mach_m, "mach_plus"); above(i, path_m, "path_plus")
  }
  h = "%-15s %-4s %6s %6s %9s %6s %9s %9s %7s %9s %8s %8s %8s %8s\n"
  printf h, "", "", "seen", "kept", "", "frac", "received", "dropped", "dropped", "", "own CPU", "machine", "machine", "path"
  printf h, "", "", "kpps", "vs", "", "capt.", "by", "by", "by", "", "s/M", "+CPU", "+s/M", "+s/M"
  printf h, "tool", "filt", "", "none", "captured", "", "filter", "kernel", "buffer", "accounted", "captured", "s/s", "seen", "seen"
  for (k = 1; k <= nkeys; k++) {
    kk = order[k]
    split(kk, p, SUBSEP)
    if (p[1] == "none") {
      # The baseline's own figures, in brackets, where the others have theirs above it.
      printf h, "no capture", "-", fmt(med(kk, "kpps"), "%.0f"), "-", "-", "-", "-", "-", "-", "-", "-",
        fmt(med(kk, "rate"), "[%.2f]"), fmt(med(kk, "mach_m"), "[%.2f]"), fmt(med(kk, "path_m"), "[%.2f]")
      continue
    }
    acc = accounted_ok[kk] == accounted_runs[kk] ? "yes" : sprintf("no %d/%d", accounted_runs[kk] - accounted_ok[kk], accounted_runs[kk])
    printf h, backend[kk], p[2], fmt(med(kk, "kpps"), "%.0f"), fmt(med(kk, "kept"), "%.3f"),
      fmt(med(kk, "captured"), "%d"), p[2] == "all" ? fmt(med(kk, "frac"), "%.4f") : "-",
      fmt(med(kk, "received"), "%d"), fmt(med(kk, "lost_k"), "%d"), fmt(med(kk, "lost_b"), "%d"), acc,
      fmt(med(kk, "own_m"), "%.3f"), fmt(med(kk, "rate_plus"), "%+.2f"),
      fmt(med(kk, "mach_plus"), "%+.3f"), fmt(med(kk, "path_plus"), "%+.3f")
  }
  print ""
  print "kept: datapath packets/s over the mean of the no-capture runs beside it. frac: captured / seen."
  print "accounted: captured + dropped by kernel + dropped by buffer == received by filter, every run"
  print "  (the tool's own exit counts; 'no K/N' = K of N runs did not add up)."
  print "own CPU: the tool's utime+stime, flood start to end of its drain, per million captured."
  print "machine: /proc/stat non-idle jiffies of all CPUs over the flood, as CPU-s per second and"
  print "  per million packets seen, minus the no-capture runs beside it ([absolute] on that row)."
  print "path: injector CPU (taps and TC programs run inside its writes) + the tool's own, per"
  print "  million seen, minus the injector's alone in the no-capture runs beside it."
  mi = median(idle)
  if (mi != "") {
    printf "machine idle during the no-capture runs: %.1f%% of all CPU time", mi * 100
    if (mi < 0.05) printf " -- other load fills the machine: the machine columns show little but noise"
    printf "\n"
  }
}
