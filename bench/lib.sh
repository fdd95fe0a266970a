# shellcheck shell=bash
# Helpers the shell benchmarks share (build_bench.sh, serve_bench.sh).

# now: the time in seconds, with nanoseconds.
now() { date +%s.%N; }
# calc EXPR: an arithmetic expression on decimals ("$t1 - $t0").
calc() { awk "BEGIN { print $1 }"; }
# median: the median of the numbers on stdin, one per line, to three decimals.
median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m }'; }
