#!/usr/bin/env bash
# test.sh — the whole test suite, as the README and CI run it:
#   1. go vet and gofmt;
#   2. unit tests, golden tests, fuzz seed corpora, and the integration suite
#      against the embedded Kafka-protocol broker (kfake, in process);
#   3. a short fuzzing pass on every decoder (FUZZTIME each, default 10s; 0 skips);
#   4. a real Apache Kafka (scripts/kafka.sh, KRaft, jars from Maven Central):
#      the integration suite again, then the fault suite (kill -9, rolling
#      restarts, broker restart, poison records) — Kafka is stopped on exit,
#      also when tests fail.
# Set KAFKA_BROKERS to run step 4 against your own cluster instead (nothing is
# started or stopped then; the broker-restart fault test is skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME=${FUZZTIME:-10s}
step() { printf '\n=== %s\n' "$*"; }

step "go vet / gofmt"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "unit, golden and embedded-broker integration tests"
env -u KAFKA_BROKERS go test -count=1 ./...

if [[ $FUZZTIME != 0 ]]; then
  step "fuzzing every decoder for $FUZZTIME each"
  for pkg in $(go list ./...); do
    for target in $(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true); do
      echo "--- $target ($pkg)"
      go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg"
    done
  done
fi

started=""
if [[ -z ${KAFKA_BROKERS:-} ]]; then
  step "starting Apache Kafka (scripts/kafka.sh up)"
  out=$(scripts/kafka.sh up)
  eval "$out"
  export KAFKA_BROKERS KAFKA_RESTART_CMD="$PWD/scripts/kafka.sh restart"
  started=1
  trap 'scripts/kafka.sh down || true' EXIT
fi

step "integration suite against Kafka at $KAFKA_BROKERS"
go test -count=1 -run 'Pipeline' ./cmd/sessiond/

step "fault suite against Kafka at $KAFKA_BROKERS"
go test -count=1 -tags fault -timeout 40m -v ./test/fault/

[[ -n $started ]] && step "stopping Apache Kafka"
exit 0
