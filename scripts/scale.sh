#!/usr/bin/env bash
# The scale curves of BENCHMARKS.md: sessiond-load at 10k, 100k and 1M
# visitors (12 partitions) and at 3, 12 and 24 partitions (100k visitors),
# with the latency phase at 10k events/s on the 100k/12 run, then
# sessiond-plot draws docs/bench/scale-*.svg and latency-cdf.svg.
#
#   bash scripts/kafka.sh up && bash scripts/scale.sh
#
# The JSON reports go to docs/bench/reports/. About 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/bench
mkdir -p "$out/reports" /tmp/sessiond-scale
go build -o /tmp/sessiond-scale/sessiond ./cmd/sessiond
go build -C bench -o /tmp/sessiond-scale/ ./sessiond-load ./sessiond-plot # the bench module
load() { # name, then sessiond-load flags
  local name=$1
  shift
  echo "=== $name: sessiond-load $*"
  /tmp/sessiond-scale/sessiond-load --sessiond-bin /tmp/sessiond-scale/sessiond --json "$out/reports/$name.json" "$@" |
    grep -E '^\| (3 pipeline|4 restore|5 latency) '
}
load v100k-p12 --visitors 100000 --partitions 12 --latency-seconds 30
load v10k-p12 --visitors 10000 --partitions 12 --latency-seconds 0
load v1m-p12 --visitors 1000000 --partitions 12 --latency-seconds 0
load v100k-p3 --visitors 100000 --partitions 3 --latency-seconds 0
load v100k-p24 --visitors 100000 --partitions 24 --latency-seconds 0
/tmp/sessiond-scale/sessiond-plot --out "$out" "$out"/reports/*.json
ls -l "$out"/*.svg
