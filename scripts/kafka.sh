#!/usr/bin/env bash
# kafka.sh — run a throwaway single-node Apache Kafka (KRaft, combined
# broker+controller) on 127.0.0.1 for the integration tests and CI.
#
# Usage:
#   scripts/kafka.sh up [--secure]
#                              Start the broker in the background and wait until it
#                              serves requests. Prints exactly one line on stdout,
#                              KAFKA_BROKERS=127.0.0.1:<port>, so callers can do
#                                eval "$(scripts/kafka.sh up)"; export KAFKA_BROKERS
#                              (with --secure, eight more lines; see below).
#                              The data dir is wiped and reformatted on every fresh
#                              start (a new cluster per test run). If the broker is
#                              already running it is left alone and `up` succeeds,
#                              printing the lines of the running one (`up --secure`
#                              fails if the running one is not secure).
#                              --secure (or KAFKA_SECURE=1): see "Secure mode" below.
#   scripts/kafka.sh down      SIGTERM, wait up to 30 s, then SIGKILL. Succeeds if
#                              nothing is running.
#   scripts/kafka.sh restart   Stop and start the broker on the same data (keeps topics,
#                              and in secure mode the same certificates and password).
#   scripts/kafka.sh status    Exit 0 and print KAFKA_BROKERS=... (plus the secure-mode
#                              lines, if any) if running, else exit 1.
#   scripts/kafka.sh logs [tail args]
#                              Tail the broker log (default: -n 200; e.g. `logs -f`).
#   scripts/kafka.sh tool <main-class> [args...]
#                              Run a Kafka CLI class from the same jars, quietly logged,
#                              e.g. `tool org.apache.kafka.tools.TopicCommand
#                              --bootstrap-server 127.0.0.1:39092 --list`.
#
# Secure mode (`up --secure`): besides the unchanged PLAINTEXT listener the broker gets
#   SASL_SSL  127.0.0.1:$KAFKA_SASL_SSL_PORT  TLS + SASL, mechanisms SCRAM-SHA-512,
#             SCRAM-SHA-256 and PLAIN; one user `sessiond` (SCRAM credentials are
#             added when the storage is formatted, PLAIN via the listener's JAAS config)
#             with a random password per fresh start
#   MTLS      127.0.0.1:$KAFKA_MTLS_PORT      TLS with client certificates required
#             (security protocol SSL, ssl.client.auth=required on this listener only)
# The controller and inter-broker listeners stay PLAINTEXT; there is no authorizer.
# A throwaway CA, a broker certificate (SAN IP:127.0.0.1, DNS:localhost), a client
# certificate from the same CA, and an unrelated second CA (with its own client
# certificate) for "unknown CA" negative tests are made with openssl on every fresh
# start. `up --secure` prints these lines after KAFKA_BROKERS=... (shell-quoted,
# so `eval "$(scripts/kafka.sh up --secure)"` works):
#   KAFKA_SASL_SSL_BROKERS=127.0.0.1:<port>
#   KAFKA_MTLS_BROKERS=127.0.0.1:<port>
#   KAFKA_TLS_CA_FILE=<state>/tls/ca.pem                 CA that signed broker + client
#   KAFKA_TLS_CLIENT_CERT_FILE=<state>/tls/client.pem    client certificate (CN=sessiond)
#   KAFKA_TLS_CLIENT_KEY_FILE=<state>/tls/client-key.pem its key (PKCS#8 PEM, unencrypted)
#   KAFKA_TLS_OTHER_CA_FILE=<state>/tls/other-ca.pem     unrelated CA (must be rejected)
#   KAFKA_SASL_USER=sessiond
#   KAFKA_SASL_PASSWORD=<random alphanumeric>            also in <state>/sasl-password
#                                                        (no trailing newline)
# Java clients can use config/client-sasl-ssl.properties (SCRAM-SHA-512) and
# config/client-mtls.properties, e.g. `tool org.apache.kafka.tools.TopicCommand
# --bootstrap-server 127.0.0.1:39094 --command-config .kafka/config/client-sasl-ssl.properties --list`.
# Secure mode adds about 2 s to `up`: openssl (~0.3 s) and one readiness request over
# SASL_SSL with SCRAM-SHA-512 from a Java tool. Note: Kafka 4.x checks SCRAM nonces
# strictly, so librdkafka < 2.6.1 (e.g. Debian 12's kcat) fails SCRAM with "invalid
# credentials" even with the right password; PLAIN and mTLS work with it.
#
# Environment (all optional):
#   KAFKA_HOME_DIR         State dir (jars, config, data, logs, pid). Default: <repo>/.kafka
#                          (a relative path is taken from the current directory)
#   KAFKA_PORT             PLAINTEXT listener port.   Default: 39092
#   KAFKA_CONTROLLER_PORT  CONTROLLER listener port.  Default: 39093
#   KAFKA_SECURE           1 (or true/yes) = `up --secure`.
#   KAFKA_SASL_SSL_PORT    SASL_SSL listener port (secure mode).  Default: 39094
#   KAFKA_MTLS_PORT        mTLS (SSL) listener port (secure mode). Default: 39095
#   KAFKA_HEAP_OPTS        Broker heap.               Default: -Xmx512m -Xms256m
#   KAFKA_OPTS             Extra JVM options for the broker.
#   KAFKA_LOG_LEVEL        Root log level of the broker log. Default: INFO
#   KAFKA_START_TIMEOUT    Seconds `up` waits for the broker.  Default: 90
#   KAFKA_STOP_TIMEOUT     Seconds `down` waits before SIGKILL. Default: 30
#   JAVA_HOME              Java 17+ to use; otherwise `java` from PATH.
#
# Jars come from Maven Central via scripts/kafka/pom.xml (which pins the Kafka
# version) into $KAFKA_HOME_DIR/lib, and are reused as long as the pom is unchanged.
# Needs: Java 17+, Maven (first run only), bash, coreutils, util-linux (setsid, flock);
# secure mode also needs openssl.
#
# Layout of the state dir:
#   lib/        jars (cached)            config/   generated server/log4j2/client config
#   data/       log.dirs (wiped on up)   logs/     server.log (+ kafka.out = JVM stdout/stderr)
#   kafka.pid   pid of the running broker
#   brokers     the lines `up` printed (`status` / `restart` print them again)
#   tls/        secure mode: ca.pem ca-key.pem, broker.pem broker-key.pem broker.p12,
#               client.pem client-key.pem client.p12, other-ca.pem other-ca-key.pem,
#               other-client.pem other-client-key.pem (signed by other-ca),
#               p12-password (of the .p12 files)
#   sasl-password  secure mode: password of user sessiond
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
SASL_SSL_PORT=${KAFKA_SASL_SSL_PORT:-39094}
MTLS_PORT=${KAFKA_MTLS_PORT:-39095}
case ${KAFKA_SECURE:-} in 1 | true | yes) SECURE=1 ;; *) SECURE=0 ;; esac
HOST=127.0.0.1
SASL_USER=sessiond

LIB="$STATE/lib"
CONF="$STATE/config"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid"
BROKERS_FILE="$STATE/brokers" # KAFKA_BROKERS=... (+ secure-mode lines) of the running broker
TLS="$STATE/tls"                # secure mode: CA, certificates, keys
SASL_PASSWORD_FILE="$STATE/sasl-password"

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

# Random alphanumeric secret (shell-, JAAS- and --add-scram-safe).
# No `tr </dev/urandom | head`: under pipefail tr's SIGPIPE would fail the pipeline.
random_secret() {
  local s
  s=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  echo "${s:0:32}"
}

# `restart` reuses the generated config: take secure mode and the listener ports
# from it, so the readiness checks look where the broker really listens.
load_listeners_from_config() {
  local line l
  local -a all=()
  line=$(sed -n 's/^listeners=//p' "$CONF/server.properties" 2>/dev/null | head -n1)
  SECURE=0
  IFS=, read -r -a all <<<"$line"
  for l in "${all[@]}"; do
    case $l in
    PLAINTEXT://*) PORT=${l##*:} ;;
    SASL_SSL://*) SASL_SSL_PORT=${l##*:} SECURE=1 ;;
    MTLS://*) MTLS_PORT=${l##*:} ;;
    esac
  done
}

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

# ---------------------------------------------------------------- tls (secure mode)

# openssl, quiet unless it fails.
ossl() {
  if ! openssl "$@" >>"$TLS/openssl.log" 2>&1; then
    tail -n 20 "$TLS/openssl.log" >&2
    die "openssl $1 failed (full output: $TLS/openssl.log)"
  fi
}

# Random positive 64-bit serial number for openssl -set_serial.
cert_serial() { printf '0x%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }

# new_ca NAME CN: self-signed CA -> $TLS/NAME.pem, $TLS/NAME-key.pem.
new_ca() {
  ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 365 \
    -subj "/O=sessiond tests/CN=$2" -set_serial "$(cert_serial)" \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -keyout "$TLS/$1-key.pem" -out "$TLS/$1.pem"
}

# new_cert NAME CN CA EXTENSIONS: leaf certificate signed by $TLS/CA.pem ->
# $TLS/NAME.pem, $TLS/NAME-key.pem (PKCS#8 PEM, unencrypted).
new_cert() {
  local name=$1 cn=$2 ca=$3 ext=$4
  ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -subj "/O=sessiond tests/CN=$cn" -keyout "$TLS/$name-key.pem" -out "$TLS/$name.csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "$ext" >"$TLS/$name.ext"
  ossl x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca.pem" -CAkey "$TLS/$ca-key.pem" \
    -set_serial "$(cert_serial)" -days 365 -sha256 -extfile "$TLS/$name.ext" -out "$TLS/$name.pem"
  rm -f "$TLS/$name.csr" "$TLS/$name.ext"
}

# new_p12 NAME: $TLS/NAME.p12 from NAME.pem + NAME-key.pem (+ the CA), password in
# $TLS/p12-password. For Java (the broker's keystore, client-mtls.properties).
new_p12() {
  ossl pkcs12 -export -name "$1" -in "$TLS/$1.pem" -inkey "$TLS/$1-key.pem" \
    -certfile "$TLS/ca.pem" -passout "file:$TLS/p12-password" -out "$TLS/$1.p12"
}

# Fresh CA, broker and client certificates, plus an unrelated CA for negative
# tests, and a new SASL password. Keys are readable by the owner only.
gen_secrets() {
  command -v openssl >/dev/null 2>&1 || die "openssl not found; needed by --secure"
  rm -rf "$TLS" "$SASL_PASSWORD_FILE"
  (umask 077 && mkdir -p "$TLS")
  local old_umask
  old_umask=$(umask)
  umask 077
  new_ca ca "sessiond test CA"
  new_cert broker localhost ca $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
  new_cert client "$SASL_USER" ca 'extendedKeyUsage=clientAuth'
  new_ca other-ca "unrelated test CA"
  new_cert other-client "$SASL_USER" other-ca 'extendedKeyUsage=clientAuth'
  random_secret | tr -d '\n' >"$TLS/p12-password"
  new_p12 broker
  new_p12 client
  random_secret | tr -d '\n' >"$SASL_PASSWORD_FILE"
  umask "$old_umask"
  # Public certificates may be read by anyone (e.g. a test running as another user).
  chmod 755 "$TLS"
  chmod 644 "$TLS"/ca.pem "$TLS"/other-ca.pem "$TLS"/broker.pem "$TLS"/client.pem "$TLS"/other-client.pem
}

sasl_password() { [[ -f $SASL_PASSWORD_FILE ]] && cat "$SASL_PASSWORD_FILE"; }

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
  rm -f "$CONF"/client-*.properties "$CONF"/probe-*.properties

  local listeners="PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if ((SECURE)); then
    listeners+=",SASL_SSL://$HOST:$SASL_SSL_PORT,MTLS://$HOST:$MTLS_PORT"
    protocols+=",SASL_SSL:SASL_SSL,MTLS:SSL"
  fi

  cat >"$CONF/server.properties" <<EOF
# Generated by scripts/kafka.sh — single-node KRaft (combined mode) for tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
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
  if ((SECURE)); then write_secure_config; fi

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

# Secure mode: TLS for SASL_SSL and MTLS (one broker keystore, the test CA as
# truststore), client auth on MTLS only, SASL mechanisms and their JAAS entries on
# SASL_SSL (SCRAM credentials themselves are stored by format_storage), and client
# properties for Java tools (also used by the readiness probe).
write_secure_config() {
  local p12pw pw
  p12pw=$(<"$TLS/p12-password")
  pw=$(sasl_password)
  cat >>"$CONF/server.properties" <<EOF

# --secure: SASL_SSL and MTLS listeners (controller and inter-broker stay PLAINTEXT).
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$p12pw
ssl.key.password=$p12pw
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
ssl.client.auth=none
listener.name.mtls.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$pw";
EOF

  cat >"$CONF/client-sasl-ssl.properties" <<EOF
# Java client settings for the SASL_SSL listener $HOST:$SASL_SSL_PORT (SCRAM-SHA-512).
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$SASL_USER" password="$pw";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
EOF

  cat >"$CONF/client-mtls.properties" <<EOF
# Java client settings for the MTLS listener $HOST:$MTLS_PORT (client certificate).
security.protocol=SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/client.p12
ssl.keystore.password=$p12pw
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
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
  local -a scram=()
  if ((SECURE)); then
    # SCRAM credentials go into the bootstrap metadata, so they exist from the first
    # request on (no kafka-configs round trip, no race with the first client).
    local pw m
    pw=$(sasl_password)
    for m in SCRAM-SHA-512 SCRAM-SHA-256; do
      scram+=(--add-scram "$m=[name=$SASL_USER,password=$pw]")
    done
  fi
  if ! run_tool kafka.tools.StorageTool format -t "$id" -c "$CONF/server.properties" --standalone \
      "${scram[@]}" >"$LOGS/format.out" 2>&1; then
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

# Secure mode, after wait_ready: the TLS listeners accept connections and a real
# request over SASL_SSL (TLS against the test CA + SCRAM-SHA-512 login) succeeds.
# Catches broken certificates or credentials here rather than in the tests.
wait_secure_ready() {
  local p
  for p in "$SASL_SSL_PORT" "$MTLS_PORT"; do
    port_in_use "$p" || { log "secure listener $HOST:$p is not accepting connections"; return 1; }
  done
  cat "$CONF/client-sasl-ssl.properties" "$CONF/probe.properties" >"$CONF/probe-sasl-ssl.properties"
  local out
  if ! out=$(run_tool --timeout 30 org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$HOST:$SASL_SSL_PORT" \
      --command-config "$CONF/probe-sasl-ssl.properties" --list 2>&1); then
    printf '%s\n' "$out" | tail -n 20 >&2
    log "request over SASL_SSL ($HOST:$SASL_SSL_PORT, SCRAM-SHA-512) failed"
    return 1
  fi
}

# The lines `up` prints: KAFKA_BROKERS=..., and in secure mode where to connect and
# how to authenticate. Values are shell-quoted (%q) for eval.
write_brokers_file() {
  {
    echo "KAFKA_BROKERS=$HOST:$PORT"
    if ((SECURE)); then
      printf '%s=%q\n' \
        KAFKA_SASL_SSL_BROKERS "$HOST:$SASL_SSL_PORT" \
        KAFKA_MTLS_BROKERS "$HOST:$MTLS_PORT" \
        KAFKA_TLS_CA_FILE "$TLS/ca.pem" \
        KAFKA_TLS_CLIENT_CERT_FILE "$TLS/client.pem" \
        KAFKA_TLS_CLIENT_KEY_FILE "$TLS/client-key.pem" \
        KAFKA_TLS_OTHER_CA_FILE "$TLS/other-ca.pem" \
        KAFKA_SASL_USER "$SASL_USER" \
        KAFKA_SASL_PASSWORD "$(sasl_password)"
    fi
  } >"$BROKERS_FILE"
}

cmd_up() {
  while (($#)); do
    case $1 in
    --secure) SECURE=1 ;;
    *) die "unknown option for up: $1 (usage: $0 up [--secure])" ;;
    esac
    shift
  done

  take_lock
  local pid
  if pid=$(running_pid); then
    if ((SECURE)) && ! grep -q '^KAFKA_SASL_SSL_BROKERS=' "$BROKERS_FILE" 2>/dev/null; then
      die "already running (pid $pid) without --secure; run '$0 down' first"
    fi
    log "already running (pid $pid)"
    cat "$BROKERS_FILE" 2>/dev/null || echo "KAFKA_BROKERS=$HOST:$PORT"
    return 0
  fi
  rm -f "$PIDFILE" "$BROKERS_FILE"
  local -a ports=("$PORT" "$CONTROLLER_PORT")
  local names="KAFKA_PORT / KAFKA_CONTROLLER_PORT"
  if ((SECURE)); then
    ports+=("$SASL_SSL_PORT" "$MTLS_PORT")
    names+=" / KAFKA_SASL_SSL_PORT / KAFKA_MTLS_PORT"
  fi
  for p in "${ports[@]}"; do
    port_in_use "$p" && die "port $p on $HOST is already in use by another process (set $names)"
  done

  check_java
  ensure_jars
  if ((SECURE)); then
    gen_secrets
  else
    rm -rf "$TLS" "$SASL_PASSWORD_FILE" # no stale secrets from an earlier secure run
  fi
  write_config
  format_storage
  start_broker
  pid=$(<"$PIDFILE")
  log "started broker (pid $pid), waiting for $HOST:$PORT ..."

  local t0=$SECONDS
  if ! wait_ready "$pid" || { ((SECURE)) && ! wait_secure_ready; }; then
    print_log_tail
    stop_pid "$pid" || true
    rm -f "$PIDFILE"
    die "Kafka failed to start; full logs in $LOGS"
  fi
  write_brokers_file
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
  # Same config, certificates and password as before; the readiness checks only
  # need the mode and ports it was started with.
  load_listeners_from_config
  start_broker
  pid=$(<"$PIDFILE")
  log "restarted broker (pid $pid), waiting for $HOST:$PORT ..."
  if ! wait_ready "$pid" || { ((SECURE)) && ! wait_secure_ready; }; then
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
  up) cmd_up "$@" ;;
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
