#!/usr/bin/env bash
# kafka.sh — run a throwaway single-node Apache Kafka (KRaft, combined
# broker+controller) on 127.0.0.1 for the integration tests and CI.
#
# Usage:
#   scripts/kafka.sh up        Start the broker in the background and wait until it
#                              serves requests. Prints exactly one line on stdout,
#                              KAFKA_BROKERS=127.0.0.1:<port>, so callers can do
#                                eval "$(scripts/kafka.sh up)"; export KAFKA_BROKERS
#                              The data dir is wiped and reformatted on every fresh
#                              start (a new cluster per test run). If the broker is
#                              already running it is left alone and `up` succeeds.
#   scripts/kafka.sh down      SIGTERM, wait up to 30 s, then SIGKILL. Succeeds if
#                              nothing is running.
#   scripts/kafka.sh restart   Stop and start the broker on the same data (keeps topics).
#   scripts/kafka.sh status    Exit 0 and print KAFKA_BROKERS=... if running, else exit 1.
#   scripts/kafka.sh logs [tail args]
#                              Tail the broker log (default: -n 200; e.g. `logs -f`).
#   scripts/kafka.sh tool <main-class> [args...]
#                              Run a Kafka CLI class from the same jars, quietly logged,
#                              e.g. `tool org.apache.kafka.tools.TopicCommand
#                              --bootstrap-server 127.0.0.1:39092 --list`.
#
# Environment (all optional):
#   KAFKA_HOME_DIR         State dir (jars, config, data, logs, pid). Default: <repo>/.kafka
#                          (a relative path is taken from the current directory)
#   KAFKA_PORT             PLAINTEXT listener port.   Default: 39092
#   KAFKA_CONTROLLER_PORT  CONTROLLER listener port.  Default: 39093
#   KAFKA_HEAP_OPTS        Broker heap.               Default: -Xmx512m -Xms256m
#   KAFKA_OPTS             Extra JVM options for the broker.
#   KAFKA_LOG_LEVEL        Root log level of the broker log. Default: INFO
#   KAFKA_START_TIMEOUT    Seconds `up` waits for the broker.  Default: 90
#   KAFKA_STOP_TIMEOUT     Seconds `down` waits before SIGKILL. Default: 30
#   JAVA_HOME              Java 17+ to use; otherwise `java` from PATH.
#
# Jars come from Maven Central via scripts/kafka/pom.xml (which pins the Kafka
# version) into $KAFKA_HOME_DIR/lib, and are reused as long as the pom is unchanged.
# Needs: Java 17+, Maven (first run only), bash, coreutils, util-linux (setsid, flock).
#
# Layout of the state dir:
#   lib/        jars (cached)            config/   generated server/log4j2/client config
#   data/       log.dirs (wiped on up)   logs/     server.log (+ kafka.out = JVM stdout/stderr)
#   kafka.pid   pid of the running broker
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd)
POM="$SCRIPT_DIR/kafka/pom.xml"

STATE=${KAFKA_HOME_DIR:-$REPO/.kafka}
case $STATE in /*) ;; *) STATE="$PWD/$STATE" ;; esac
PORT=${KAFKA_PORT:-39092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-39093}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
EXTRA_OPTS=${KAFKA_OPTS:-}
LOG_LEVEL=${KAFKA_LOG_LEVEL:-INFO}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
HOST=127.0.0.1

LIB="$STATE/lib"
CONF="$STATE/config"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid"
BROKERS_FILE="$STATE/brokers" # KAFKA_BROKERS=... of the running broker

if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

# ---------------------------------------------------------------- helpers

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Kafka version pinned in the pom (single source of truth).
kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1
}

# Serialise up/down so concurrent callers (parallel test jobs) don't race.
# The fd is closed for the broker process (9>&- in start_broker).
take_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 180 9 || die "timed out waiting for lock $STATE/.lock"
}

# Pid of our broker if it is alive, else nothing (and exit status 1).
# Checks the command line too, so a stale pid reused by another process
# is not mistaken for the broker.
running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA_HOME or put Java 17+ on PATH)"
  local v major
  v=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  major=${v%%.*}
  [[ $major =~ ^[0-9]+$ && $major -ge 17 ]] || die "Kafka $(kafka_version) needs Java 17+, found '${v:-unknown}' ($JAVA)"
}

# Run a Kafka CLI main class with the cached jars; its own logging goes to stderr at WARN.
# Optional first arg `--timeout N` kills the tool after N seconds.
run_tool() {
  local -a pre=()
  if [[ ${1:-} == --timeout ]]; then pre=(timeout "$2"); shift 2; fi
  "${pre[@]}" "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$CONF/tools-log4j2.xml" \
    -cp "$LIB/*" "$@"
}

# ---------------------------------------------------------------- jars

# Fetch the broker + CLI jars into $LIB unless an identical set is already there.
# The stamp records the pom's checksum, so editing the pom (e.g. a version bump)
# re-resolves into a clean dir instead of mixing two Kafka versions on the classpath.
ensure_jars() {
  local version stamp want
  version=$(kafka_version)
  [[ -n $version ]] || die "cannot read <kafka.version> from $POM"
  stamp="$LIB/.resolved"
  want="kafka=$version pom=$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f $LIB/kafka_2.13-$version.jar && -f $stamp && $(<"$stamp") == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found; needed once to fetch Kafka $version jars"
  log "fetching Kafka $version jars with Maven into $LIB ..."
  local tmp="$STATE/lib.tmp"
  rm -rf "$tmp"
  # Output goes to a file: even with -B -q, Maven 3.8 emits stray ANSI resets.
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime >"$STATE/mvn.log" 2>&1; then
    tail -n 40 "$STATE/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (full output: $STATE/mvn.log)"
  fi
  [[ -f $tmp/kafka_2.13-$version.jar ]] || die "mvn did not produce kafka_2.13-$version.jar"
  echo "$want" >"$tmp/.resolved"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
}

# ---------------------------------------------------------------- config

# log4j2 config for CLI tools: WARN and above to stderr.
write_tools_config() {
  mkdir -p "$CONF"
  cat >"$CONF/tools-log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
EOF
}

write_config() {
  mkdir -p "$CONF" "$LOGS"

  cat >"$CONF/server.properties" <<EOF
# Generated by scripts/kafka.sh — single-node KRaft (combined mode) for tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
EOF

  # Kafka 4.x logs via SLF4J -> log4j2 (log4j 1.x configs are ignored). Picked up
  # through -Dlog4j2.configurationFile; ${sys:kafka.logs.dir} is set on the command line.
  cat >"$CONF/log4j2.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <RollingFile name="server" fileName="\${sys:kafka.logs.dir}/server.log"
                 filePattern="\${sys:kafka.logs.dir}/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="50 MB"/>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="$LOG_LEVEL"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
  </Loggers>
</Configuration>
EOF

  write_tools_config

  # Client settings for the readiness probe: fail fast instead of the 60 s defaults.
  cat >"$CONF/probe.properties" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=8000
EOF
}

# Fresh cluster: wipe data and logs, then format storage with a new cluster id.
format_storage() {
  rm -rf "$DATA" "$LOGS"
  mkdir -p "$DATA" "$LOGS"
  # Same shape as `StorageTool random-uuid` (22-char base64url of 16 random bytes;
  # Kafka never hands out ids starting with '-'), without paying for a JVM start.
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id != -* ]] && break
  done
  # --standalone: a single-voter dynamic quorum (needs controller.quorum.bootstrap.servers,
  # must not be combined with controller.quorum.voters).
  if ! run_tool kafka.tools.StorageTool format -t "$id" -c "$CONF/server.properties" --standalone \
      >"$LOGS/format.out" 2>&1; then
    cat "$LOGS/format.out" >&2
    die "kafka-storage format failed"
  fi
}

# ---------------------------------------------------------------- commands

start_broker() {
  local -a cmd=("$JAVA") heap=() extra=()
  read -r -a heap <<<"$HEAP_OPTS"
  cmd+=("${heap[@]}")
  if [[ -n $EXTRA_OPTS ]]; then read -r -a extra <<<"$EXTRA_OPTS"; cmd+=("${extra[@]}"); fi
  cmd+=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$CONF/log4j2.xml" -Dkafka.logs.dir="$LOGS"
    -cp "$LIB/*" kafka.Kafka "$CONF/server.properties")

  # setsid: own session, so Ctrl-C / a test runner killing our process group
  # doesn't take the broker down mid-run; nohup + redirects: fully detached
  # (no fd left open that would make `$(kafka.sh up)` hang).
  local -a detach=(nohup)
  command -v setsid >/dev/null 2>&1 && detach=(setsid nohup)
  "${detach[@]}" "${cmd[@]}" >"$LOGS/kafka.out" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDFILE"
}

print_log_tail() {
  local f
  for f in "$LOGS/kafka.out" "$LOGS/server.log"; do
    [[ -s $f ]] || continue
    log "---- last lines of $f ----"
    tail -n 40 "$f" >&2
  done
}

# Wait until the broker answers a real Kafka request (list topics), or fail.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { log "broker process $pid exited during startup"; return 1; }
    if port_in_use "$PORT" &&
      run_tool --timeout 20 org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$PORT" \
        --command-config "$CONF/probe.properties" --list >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  log "broker did not become ready within ${START_TIMEOUT}s"
  return 1
}

cmd_up() {
  take_lock
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid)"
    cat "$BROKERS_FILE" 2>/dev/null || echo "KAFKA_BROKERS=$HOST:$PORT"
    return 0
  fi
  rm -f "$PIDFILE" "$BROKERS_FILE"
  for p in "$PORT" "$CONTROLLER_PORT"; do
    port_in_use "$p" && die "port $p on $HOST is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  done

  check_java
  ensure_jars
  write_config
  format_storage
  start_broker
  pid=$(<"$PIDFILE")
  log "started broker (pid $pid), waiting for $HOST:$PORT ..."

  local t0=$SECONDS
  if ! wait_ready "$pid"; then
    print_log_tail
    stop_pid "$pid" || true
    rm -f "$PIDFILE"
    die "Kafka failed to start; full logs in $LOGS"
  fi
  echo "KAFKA_BROKERS=$HOST:$PORT" >"$BROKERS_FILE"
  log "ready after $((SECONDS - t0))s (Kafka $(kafka_version), logs: $LOGS/server.log)"
  cat "$BROKERS_FILE"
}

# Stop the running broker and start it again on the same data (the fault
# suite's "broker restarted mid-stream").
cmd_restart() {
  take_lock
  local pid
  pid=$(running_pid) || die "not running"
  stop_pid "$pid"
  rm -f "$PIDFILE"
  check_java
  start_broker
  pid=$(<"$PIDFILE")
  log "restarted broker (pid $pid), waiting for $HOST:$PORT ..."
  if ! wait_ready "$pid"; then
    print_log_tail
    die "Kafka failed to restart; full logs in $LOGS"
  fi
  cat "$BROKERS_FILE"
}

# SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
stop_pid() {
  local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "broker (pid $pid) still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
}

cmd_down() {
  take_lock
  local pid
  if pid=$(running_pid); then
    log "stopping broker (pid $pid) ..."
    stop_pid "$pid"
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$PIDFILE" "$BROKERS_FILE"
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    log "running (pid $pid)"
    cat "$BROKERS_FILE" 2>/dev/null || echo "KAFKA_BROKERS=$HOST:$PORT"
  else
    log "not running"
    return 1
  fi
}

cmd_logs() {
  local f="$LOGS/server.log"
  [[ -f $f ]] || die "no broker log at $f"
  if (($# == 0)); then set -- -n 200; fi
  tail "$@" "$f"
}

cmd_tool() {
  (($# >= 1)) || die "usage: $0 tool <main-class> [args...]"
  [[ -d $LIB ]] || die "no jars in $LIB yet; run '$0 up' first"
  [[ -f $CONF/tools-log4j2.xml ]] || write_tools_config
  run_tool "$@"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

main() {
  local sub=${1:-}
  (($#)) && shift
  case $sub in
  up) cmd_up ;;
  down) cmd_down ;;
  restart) cmd_restart ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  tool) cmd_tool "$@" ;;
  -h | --help | help) usage ;;
  *) usage; exit 2 ;;
  esac
}

main "$@"
