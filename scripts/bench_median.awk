# SPDX-License-Identifier: Apache-2.0
# What scripts/bench.sh's two tables share: the median of a list of numbers,
# and per-(row, field) lists of per-run values. Loaded before either table's
# own awk file (awk -f bench_median.awk -f bench_table.awk).
# Plain POSIX awk (Debian's default is mawk): no asort.

function median(list, n,    a, i, j, t, k) {
  n = split(list, a, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) {
    t = a[i] + 0
    for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
    a[j + 1] = t
  }
  k = int((n + 1) / 2)
  return (n % 2) ? a[k] : (a[k] + a[k + 1]) / 2
}

function add(key, field, value) { vals[key, field] = vals[key, field] " " value }
function med(key, field) { return median(vals[key, field]) }
function fmt(v, f) { return v == "" ? "-" : sprintf(f, v) }
