#!/usr/bin/env bash
# test.sh — the whole test suite, as the README and CI run it:
#   1. go vet and gofmt;
#   2. unit tests, golden tests, fuzz seed corpora, and the integration suite
#      against the embedded Kafka-protocol broker (kfake, in process);
#   2b. the deployment files, checked as their tools read them (deploy/check,
#      its own module: manifests, kustomize build, dashboard and rule PromQL
#      against a scrape of `sessiond demo`), the alert rules with promtool
#      (check rules, and test rules: each alert firing and quiet), and the benchmark module's tests (bench: the load
#      harness and its plots, and the Kafka Streams peer's test, which skips
#      until step 4 runs it);
#   3. a short fuzzing pass on every decoder (FUZZTIME each, default 10s; 0 skips);
#   4. a real Apache Kafka (scripts/kafka.sh up --secure, KRaft, jars from
#      Maven Central, with SASL_SSL and mTLS listeners beside the plaintext
#      one): the integration suite again (also over SCRAM-SHA-512 and mutual
#      TLS, and the refusals of wrong credentials and certificates), then the
#      Kafka Streams peer of the benchmark (bench/kstreams: its jar built with
#      Maven, its updates checked against the reducer's), then the fault suite
#      (kill -9, rolling restarts, broker restart, poison records);
#   5. a three-broker cluster (scripts/kafka.sh up --brokers 3) and the
#      three-broker fault suite on it (leader and coordinator killed, a broker
#      roll, a reassignment, a frozen broker, min.insync.replicas not met) —
#      Kafka is stopped on exit, also when tests fail.
# Set KAFKA_BROKERS to run step 4 against your own cluster instead (nothing is
# started or stopped then; the broker-restart fault test is skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME=${FUZZTIME:-10s}
step() { printf '\n=== %s\n' "$*"; }

step "go vet / gofmt"
go vet ./...
(cd bench && go vet ./...) # its own module: not in the root's ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "unit, golden and embedded-broker integration tests"
env -u KAFKA_BROKERS go test -count=1 ./...

step "deployment files: docker-compose.yml through the compose-spec loader, deploy/*.yaml strictly into k8s.io/api types"
(cd deploy/check && go vet ./... && go test -count=1 ./...)

step "alert rules: promtool check rules and promtool test rules (deploy/prometheus)"
if ! command -v promtool >/dev/null 2>&1; then # Debian's prometheus package ships promtool
  step "installing promtool (Debian's prometheus package)"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool check rules deploy/prometheus/sessiond-rules.yaml
promtool test rules deploy/prometheus/sessiond-rules_test.yaml

step "benchmark module (bench): sessiond-load and sessiond-plot against the embedded broker"
(cd bench && env -u KAFKA_BROKERS go test -count=1 ./...)

# fuzz_one runs one fuzz target. A real finding (a crash or a failed check)
# writes its input under testdata/fuzz and fails the suite. On a loaded 2-core
# machine the fuzzing engine itself can stop with "context deadline exceeded"
# when a worker is slow to answer at the end of -fuzztime: that is not a
# finding, so it is retried once and then reported and passed over.
fuzz_one() {
  local target=$1 pkg=$2 out attempt
  for attempt in 1 2; do
    if out=$(go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
      echo "$out"; return 0
    fi
    echo "$out"
    if grep -q 'Failing input written to' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
      return 1 # a finding, or a failure that is not the engine's timeout
    fi
    echo "(fuzzing engine timed out, not a finding: attempt $attempt of 2)"
  done
  echo "(note: $target's fuzzing ended twice on the engine's timeout; its seed corpus passed in the unit stage)"
}

if [[ $FUZZTIME != 0 ]]; then
  step "fuzzing every decoder for $FUZZTIME each"
  for pkg in $(go list ./...); do # the root module's: bench and deploy/check decode nothing
    for target in $(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true); do
      echo "--- $target ($pkg)"
      fuzz_one "$target" "$pkg"
    done
  done
fi

started=""
if [[ -z ${KAFKA_BROKERS:-} ]]; then
  if ! command -v openssl >/dev/null 2>&1; then # the secure listeners' throwaway CA
    step "installing openssl"
    apt-get update -qq && apt-get install -y -qq openssl >/dev/null
  fi
  step "starting Apache Kafka (scripts/kafka.sh up --secure)"
  out=$(scripts/kafka.sh up --secure)
  eval "$out"
  export KAFKA_BROKERS KAFKA_SASL_SSL_BROKERS KAFKA_MTLS_BROKERS KAFKA_TLS_CA_FILE \
    KAFKA_TLS_CLIENT_CERT_FILE KAFKA_TLS_CLIENT_KEY_FILE KAFKA_TLS_OTHER_CA_FILE \
    KAFKA_SASL_USER KAFKA_SASL_PASSWORD KAFKA_RESTART_CMD="$PWD/scripts/kafka.sh restart"
  started=1
  trap 'scripts/kafka.sh down || true' EXIT
fi

step "integration suite against Kafka at $KAFKA_BROKERS"
go test -count=1 -run 'Pipeline' ./cmd/sessiond/

step "Kafka Streams peer (bench/kstreams): build its jar, check its updates against the reducer's"
mvn -q -B -f bench/kstreams/pom.xml -DskipTests package
(cd bench && KSTREAMS_JAR=$PWD/kstreams/target/sessiond-kstreams.jar go test -count=1 -run KStreams -v ./kstreams/)

step "fault suite against Kafka at $KAFKA_BROKERS"
go test -count=1 -tags fault -timeout 40m -v -run 'TestFault' ./test/fault/

if [[ -n $started ]]; then
  step "stopping Apache Kafka; starting a three-broker cluster (scripts/kafka.sh up --brokers 3)"
  scripts/kafka.sh down
  out=$(scripts/kafka.sh up --brokers 3)
  eval "$out"
  export KAFKA_BROKERS KAFKA_CLUSTER_SH="$PWD/scripts/kafka.sh"
  unset KAFKA_RESTART_CMD
  # All six cases (about 7 minutes); CLUSTER_CASES=<regexp> runs a subset.
  step "three-broker fault suite against Kafka at $KAFKA_BROKERS"
  go test -count=1 -tags fault -timeout 40m -v -run "${CLUSTER_CASES:-TestCluster}" ./test/fault/
  step "stopping the three-broker cluster"
fi
exit 0
