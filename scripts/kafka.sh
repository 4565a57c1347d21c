#!/usr/bin/env bash
# kafka.sh — run a throwaway Apache Kafka on 127.0.0.1 for the integration tests
# and CI: a single node (KRaft, combined broker+controller), or with --brokers N a
# cluster of a controller and N brokers (see "Cluster mode" below).
#
# Usage:
#   scripts/kafka.sh up [--secure] [--brokers N]
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
#   scripts/kafka.sh logs [N] [tail args]
#                              Tail the broker log (default: -n 200; e.g. `logs -f`);
#                              in cluster mode broker N's (default 1; 0: the controller's).
#   scripts/kafka.sh tool <main-class> [args...]
#                              Run a Kafka CLI class from the same jars, quietly logged,
#                              e.g. `tool org.apache.kafka.tools.TopicCommand
#                              --bootstrap-server 127.0.0.1:39092 --list`.
# Cluster mode only (N is a broker's node id, 1..count):
#   scripts/kafka.sh kill N    SIGKILL broker N (a crash: no controlled shutdown).
#   scripts/kafka.sh stop N    SIGTERM broker N and wait for it to exit (a controlled
#                              shutdown: its leaderships move first).
#   scripts/kafka.sh start N   Start broker N on its data and wait until it serves.
#   scripts/kafka.sh roll      Stop and start each broker in turn, as an operator
#                              upgrades, waiting after each start until no partition
#                              is under-replicated.
#   scripts/kafka.sh pid N     Print broker N's pid (for SIGSTOP/SIGCONT), exit 1 if
#                              it is not running.
#   scripts/kafka.sh wait-isr  Wait until no partition is under-replicated.
#
# Cluster mode (`up --brokers N`, N >= 2; KAFKA_BROKER_COUNT sets the default): one
#   KRaft controller (node id 0, CONTROLLER 127.0.0.1:$KAFKA_CONTROLLER_PORT, heap
#   KAFKA_CONTROLLER_HEAP_OPTS, default -Xmx192m) and N brokers, node ids 1..N, each in
#   its own JVM (heap KAFKA_HEAP_OPTS, default -Xmx384m here) with its own data dir.
#   Broker n listens on KAFKA_PORT + 10*(n-1) (39092, 39102, 39112, ...), and with
#   --secure on KAFKA_SASL_SSL_PORT + 10*(n-1) and KAFKA_MTLS_PORT + 10*(n-1). `up`
#   prints the same lines as in single-node mode, each a comma-separated list of every
#   broker (KAFKA_BROKERS=127.0.0.1:39092,127.0.0.1:39102,127.0.0.1:39112). Topics
#   default to replication factor min(N, 3) with min.insync.replicas
#   replication factor - 1 (the internal topics too), as a production cluster is set
#   up; the brokers heartbeat every second and are fenced after 6 s without one
#   (Kafka's defaults: 2 s and 9 s), and a follower leaves the ISR after 10 s behind
#   (default 30 s), so that faults show in a test's time. `restart` restarts every
#   node on the same data, `down` stops the brokers, then the controller.
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
#                                                     (cluster mode: -Xmx384m -Xms128m)
#   KAFKA_BROKER_COUNT     Brokers of `up` without --brokers. Default: 1 (single node)
#   KAFKA_CONTROLLER_HEAP_OPTS  Controller heap (cluster mode). Default: -Xmx192m -Xms64m
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
#   kafka.pid   pid of the running broker (cluster mode: controller.pid, broker-N.pid;
#               config/, data/ and logs/ then hold controller[.properties] and
#               broker-N[.properties]; `nodes` holds the broker count)
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
CLUSTER_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx384m -Xms128m}
CONTROLLER_HEAP_OPTS=${KAFKA_CONTROLLER_HEAP_OPTS:--Xmx192m -Xms64m}
BROKER_COUNT=${KAFKA_BROKER_COUNT:-1}
ISR_TIMEOUT=${KAFKA_ISR_TIMEOUT:-180}
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
COUNT_FILE="$STATE/nodes" # cluster mode: the number of brokers
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
running_pid() { pid_in "$PIDFILE"; }

# pid_in FILE: the pid in FILE if it is a live broker or controller JVM.
pid_in() {
  [[ -f $1 ]] || return 1
  local pid
  pid=$(<"$1")
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

write_log4j_config() {
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

  write_log4j_config
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
  local p12pw pw target=${1:-$CONF/server.properties}
  p12pw=$(<"$TLS/p12-password")
  pw=$(sasl_password)
  cat >>"$target" <<EOF

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

new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id != -* ]] && break
  done
  echo "$id"
}

# Fresh cluster: wipe data and logs, then format storage with a new cluster id.
format_storage() {
  rm -rf "$DATA" "$LOGS"
  mkdir -p "$DATA" "$LOGS"
  # Same shape as `StorageTool random-uuid` (22-char base64url of 16 random bytes;
  # Kafka never hands out ids starting with '-'), without paying for a JVM start.
  local id
  id=$(new_cluster_id)
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

start_broker() { start_jvm "$CONF/server.properties" "$LOGS" "$PIDFILE" "$HEAP_OPTS"; }

# start_jvm CONFIG LOGDIR PIDFILE HEAP: start one Kafka node in the background.
start_jvm() {
  local conf=$1 logs=$2 pidfile=$3
  local -a cmd=("$JAVA") heap=() extra=()
  read -r -a heap <<<"$4"
  cmd+=("${heap[@]}")
  if [[ -n $EXTRA_OPTS ]]; then read -r -a extra <<<"$EXTRA_OPTS"; cmd+=("${extra[@]}"); fi
  cmd+=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$CONF/log4j2.xml" -Dkafka.logs.dir="$logs"
    -cp "$LIB/*" kafka.Kafka "$conf")

  # setsid: own session, so Ctrl-C / a test runner killing our process group
  # doesn't take the broker down mid-run; nohup + redirects: fully detached
  # (no fd left open that would make `$(kafka.sh up)` hang).
  local -a detach=(nohup)
  command -v setsid >/dev/null 2>&1 && detach=(setsid nohup)
  mkdir -p "$logs"
  "${detach[@]}" "${cmd[@]}" >"$logs/kafka.out" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
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
  local pid=$1 port=${2:-$PORT} deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { log "broker process $pid exited during startup"; return 1; }
    if port_in_use "$port" &&
      run_tool --timeout 20 org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$port" \
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
    --brokers)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--brokers needs a count of brokers (1, 3, ...)"
      BROKER_COUNT=$2
      shift
      ;;
    --brokers=*) BROKER_COUNT=${1#--brokers=} ;;
    *) die "unknown option for up: $1 (usage: $0 up [--secure] [--brokers N])" ;;
    esac
    shift
  done
  [[ $BROKER_COUNT =~ ^[1-9][0-9]*$ ]] || die "the broker count '$BROKER_COUNT' is not a positive number"

  take_lock
  local pid
  if is_cluster && { pid_in "$CONTROLLER_PIDFILE" >/dev/null || live_broker_port >/dev/null; }; then
    ((BROKER_COUNT == $(cluster_count))) || die "a $(cluster_count)-broker cluster is running; run '$0 down' first"
    if ((SECURE)) && ! grep -q '^KAFKA_SASL_SSL_BROKERS=' "$BROKERS_FILE" 2>/dev/null; then
      die "already running without --secure; run '$0 down' first"
    fi
    log "already running ($(cluster_count) brokers)"
    cat "$BROKERS_FILE"
    return 0
  fi
  if pid=$(running_pid) && ((BROKER_COUNT > 1)); then
    die "a single-node broker is running (pid $pid); run '$0 down' first"
  fi
  rm -f "$COUNT_FILE" "$STATE"/broker-*.pid "$CONTROLLER_PIDFILE"
  if ((BROKER_COUNT > 1)); then
    rm -f "$PIDFILE" "$BROKERS_FILE"
    cluster_up
    return
  fi
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
  if is_cluster; then
    check_java
    cluster_listeners
    stop_cluster_nodes
    start_cluster_nodes || die "the Kafka cluster failed to restart; logs in $LOGS"
    log "restarted the controller and $BROKER_COUNT brokers"
    cat "$BROKERS_FILE"
    return
  fi
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
  if is_cluster; then
    log "stopping $(cluster_count) brokers and the controller ..."
    stop_cluster_nodes
    rm -f "$COUNT_FILE" "$BROKERS_FILE"
    log "stopped"
    return
  fi
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
  if is_cluster; then
    local n up=0 count
    count=$(cluster_count)
    pid_in "$CONTROLLER_PIDFILE" >/dev/null && log "controller: running" || log "controller: not running"
    for ((n = 1; n <= count; n++)); do
      if pid=$(pid_in "$(broker_pidfile "$n")"); then
        log "broker $n: running (pid $pid, port $(broker_port "$n"))"
        up=$((up + 1))
      else
        log "broker $n: not running"
      fi
    done
    cat "$BROKERS_FILE" 2>/dev/null || true
    ((up == count)) && pid_in "$CONTROLLER_PIDFILE" >/dev/null
    return
  fi
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
  if is_cluster; then
    f="$LOGS/broker-1/server.log"
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
      if (($1 == 0)); then f="$LOGS/controller/server.log"; else f="$LOGS/broker-$1/server.log"; fi
      shift
    fi
  fi
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

# ---------------------------------------------------------------- cluster mode

is_cluster() { [[ -f $COUNT_FILE ]]; }
cluster_count() { cat "$COUNT_FILE"; }
broker_port() { echo $((PORT + 10 * ($1 - 1))); }
broker_sasl_port() { echo $((SASL_SSL_PORT + 10 * ($1 - 1))); }
broker_mtls_port() { echo $((MTLS_PORT + 10 * ($1 - 1))); }
broker_pidfile() { echo "$STATE/broker-$1.pid"; }
CONTROLLER_PIDFILE="$STATE/controller.pid"

# check_node N: N is a broker of the running cluster's.
check_node() {
  is_cluster || die "not a cluster: '$0 up --brokers N' first (single-node mode has no node ids)"
  [[ ${1:-} =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= $(cluster_count))) ||
    die "no broker '${1:-}': node ids are 1..$(cluster_count)"
}

# A live broker's port (for tools and readiness), or nothing.
live_broker_port() {
  local n
  for ((n = 1; n <= $(cluster_count); n++)); do
    if pid_in "$(broker_pidfile "$n")" >/dev/null; then broker_port "$n"; return 0; fi
  done
  return 1
}

# Settings common to the controller and the brokers: in KRaft the controller
# applies the topic defaults when it creates a topic.
cluster_common_config() {
  local rf=$((BROKER_COUNT < 3 ? BROKER_COUNT : 3))
  local isr=$((rf > 1 ? rf - 1 : 1))
  cat <<EOF
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
auto.create.topics.enable=true
# Faults show within a test's time: fenced after 6 s without a heartbeat (default
# 9 s), a follower out of the ISR after 10 s behind (default 30 s).
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
replica.lag.time.max.ms=10000
EOF
}

write_cluster_config() {
  mkdir -p "$CONF" "$LOGS"
  rm -f "$CONF"/client-*.properties "$CONF"/probe-*.properties "$CONF"/broker-*.properties "$CONF/server.properties"
  {
    echo "# Generated by scripts/kafka.sh — the KRaft controller of a $BROKER_COUNT-broker test cluster."
    echo "process.roles=controller"
    echo "node.id=0"
    echo "listeners=CONTROLLER://$HOST:$CONTROLLER_PORT"
    echo "advertised.listeners=CONTROLLER://$HOST:$CONTROLLER_PORT"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT"
    echo "log.dirs=$DATA/controller"
    cluster_common_config
  } >"$CONF/controller.properties"
  local n listeners protocols f
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    listeners="PLAINTEXT://$HOST:$(broker_port "$n")"
    protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    if ((SECURE)); then
      listeners+=",SASL_SSL://$HOST:$(broker_sasl_port "$n"),MTLS://$HOST:$(broker_mtls_port "$n")"
      protocols+=",SASL_SSL:SASL_SSL,MTLS:SSL"
    fi
    f="$CONF/broker-$n.properties"
    {
      echo "# Generated by scripts/kafka.sh — broker $n of a $BROKER_COUNT-broker test cluster."
      echo "process.roles=broker"
      echo "node.id=$n"
      echo "listeners=$listeners"
      echo "advertised.listeners=$listeners"
      echo "inter.broker.listener.name=PLAINTEXT"
      echo "listener.security.protocol.map=$protocols"
      echo "log.dirs=$DATA/broker-$n"
      cluster_common_config
      echo "group.initial.rebalance.delay.ms=0"
      echo "num.network.threads=2"
      echo "num.io.threads=2"
      echo "num.replica.fetchers=1"
      echo "background.threads=2"
      echo "log.cleaner.threads=1"
    } >"$f"
    if ((SECURE)); then write_secure_config "$f"; fi
  done
  write_log4j_config
  write_tools_config
  printf '%s\n' "request.timeout.ms=5000" "default.api.timeout.ms=8000" >"$CONF/probe.properties"
}

# Fresh cluster: one cluster id; the controller formatted as a single-voter
# quorum (with the SCRAM credentials in secure mode), the brokers beside it.
format_cluster_storage() {
  rm -rf "$DATA" "$LOGS"
  mkdir -p "$DATA" "$LOGS"
  local id n
  id=$(new_cluster_id)
  local -a scram=()
  if ((SECURE)); then
    local pw m
    pw=$(sasl_password)
    for m in SCRAM-SHA-512 SCRAM-SHA-256; do scram+=(--add-scram "$m=[name=$SASL_USER,password=$pw]"); done
  fi
  local -a pids=()
  run_tool kafka.tools.StorageTool format -t "$id" -c "$CONF/controller.properties" --standalone \
    "${scram[@]}" >"$LOGS/format-controller.out" 2>&1 &
  pids+=($!)
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    run_tool kafka.tools.StorageTool format -t "$id" -c "$CONF/broker-$n.properties" \
      >"$LOGS/format-broker-$n.out" 2>&1 &
    pids+=($!)
  done
  local ok=1 p
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  if ((!ok)); then
    cat "$LOGS"/format-*.out >&2
    die "kafka-storage format failed"
  fi
}

start_controller() {
  start_jvm "$CONF/controller.properties" "$LOGS/controller" "$CONTROLLER_PIDFILE" "$CONTROLLER_HEAP_OPTS"
}

# start_cluster_broker N: start broker N and wait until it serves requests.
start_cluster_broker() {
  local n=$1 pid
  start_jvm "$CONF/broker-$n.properties" "$LOGS/broker-$n" "$(broker_pidfile "$n")" "$CLUSTER_HEAP_OPTS"
  pid=$(<"$(broker_pidfile "$n")")
  log "started broker $n (pid $pid), waiting for $HOST:$(broker_port "$n") ..."
  if ! wait_ready "$pid" "$(broker_port "$n")"; then
    print_node_log_tail "broker-$n"
    return 1
  fi
}

print_node_log_tail() {
  local f
  for f in "$LOGS/$1/kafka.out" "$LOGS/$1/server.log"; do
    [[ -s $f ]] || continue
    log "---- last lines of $f ----"
    tail -n 40 "$f" >&2
  done
}

# The secure listeners of every broker accept connections, and broker 1's
# answers a request over SASL_SSL (what wait_secure_ready checks on one node).
wait_cluster_secure_ready() {
  local n
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    port_in_use "$(broker_sasl_port "$n")" && port_in_use "$(broker_mtls_port "$n")" ||
      { log "secure listeners of broker $n are not accepting connections"; return 1; }
  done
  SASL_SSL_PORT=$(broker_sasl_port 1) MTLS_PORT=$(broker_mtls_port 1) wait_secure_ready
}

write_cluster_brokers_file() {
  local n plain="" sasl="" mtls=""
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    plain+="${plain:+,}$HOST:$(broker_port "$n")"
    sasl+="${sasl:+,}$HOST:$(broker_sasl_port "$n")"
    mtls+="${mtls:+,}$HOST:$(broker_mtls_port "$n")"
  done
  {
    echo "KAFKA_BROKERS=$plain"
    if ((SECURE)); then
      printf '%s=%q\n' \
        KAFKA_SASL_SSL_BROKERS "$sasl" \
        KAFKA_MTLS_BROKERS "$mtls" \
        KAFKA_TLS_CA_FILE "$TLS/ca.pem" \
        KAFKA_TLS_CLIENT_CERT_FILE "$TLS/client.pem" \
        KAFKA_TLS_CLIENT_KEY_FILE "$TLS/client-key.pem" \
        KAFKA_TLS_OTHER_CA_FILE "$TLS/other-ca.pem" \
        KAFKA_SASL_USER "$SASL_USER" \
        KAFKA_SASL_PASSWORD "$(sasl_password)"
    fi
  } >"$BROKERS_FILE"
}

# start_cluster_nodes: the controller, then every broker (in parallel), each
# waited for; on failure everything started is stopped again.
start_cluster_nodes() {
  start_controller
  local n ok=1
  local -a waits=()
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    start_cluster_broker "$n" &
    waits+=($!)
  done
  for n in "${waits[@]}"; do wait "$n" || ok=0; done
  if ((ok)) && ((SECURE)) && ! wait_cluster_secure_ready; then ok=0; fi
  if ((!ok)); then
    print_node_log_tail controller
    stop_cluster_nodes
    return 1
  fi
}

# stop_cluster_nodes: every broker (controlled shutdown, in parallel), then the controller.
stop_cluster_nodes() {
  local n pid
  local -a waits=()
  for ((n = 1; n <= $(cluster_count); n++)); do
    if pid=$(pid_in "$(broker_pidfile "$n")"); then
      stop_pid "$pid" &
      waits+=($!)
    fi
  done
  for n in "${waits[@]}"; do wait "$n" || true; done
  if pid=$(pid_in "$CONTROLLER_PIDFILE"); then stop_pid "$pid"; fi
  rm -f "$STATE"/broker-*.pid "$CONTROLLER_PIDFILE"
}

cluster_up() {
  local -a ports=("$CONTROLLER_PORT")
  local n
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    ports+=("$(broker_port "$n")")
    ((SECURE)) && ports+=("$(broker_sasl_port "$n")" "$(broker_mtls_port "$n")")
  done
  for p in "${ports[@]}"; do
    port_in_use "$p" && die "port $p on $HOST is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_SASL_SSL_PORT / KAFKA_MTLS_PORT)"
  done
  check_java
  ensure_jars
  if ((SECURE)); then gen_secrets; else rm -rf "$TLS" "$SASL_PASSWORD_FILE"; fi
  write_cluster_config
  format_cluster_storage
  echo "$BROKER_COUNT" >"$COUNT_FILE"
  local t0=$SECONDS
  if ! start_cluster_nodes; then
    rm -f "$COUNT_FILE"
    die "the Kafka cluster failed to start; full logs in $LOGS"
  fi
  write_cluster_brokers_file
  log "$BROKER_COUNT brokers and a controller ready after $((SECONDS - t0))s (Kafka $(kafka_version), logs: $LOGS/broker-N/server.log)"
  cat "$BROKERS_FILE"
}

# cluster_listeners: secure mode and the first broker's ports from broker 1's config.
cluster_listeners() {
  BROKER_COUNT=$(cluster_count)
  local line
  line=$(sed -n 's/^listeners=//p' "$CONF/broker-1.properties" 2>/dev/null | head -n1)
  SECURE=0
  [[ $line == *SASL_SSL://* ]] && SECURE=1
  PORT=${line#PLAINTEXT://$HOST:}
  PORT=${PORT%%,*}
  if ((SECURE)); then
    SASL_SSL_PORT=${line#*SASL_SSL://$HOST:}
    SASL_SSL_PORT=${SASL_SSL_PORT%%,*}
    MTLS_PORT=${line#*MTLS://$HOST:}
    MTLS_PORT=${MTLS_PORT%%,*}
  fi
}

cmd_kill() {
  take_lock
  check_node "${1:-}"
  local pid
  pid=$(pid_in "$(broker_pidfile "$1")") || die "broker $1 is not running"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  log "killed broker $1 (pid $pid)"
}

cmd_stop() {
  take_lock
  check_node "${1:-}"
  local pid t0=$SECONDS
  pid=$(pid_in "$(broker_pidfile "$1")") || die "broker $1 is not running"
  stop_pid "$pid"
  log "stopped broker $1 (pid $pid) in $((SECONDS - t0))s"
}

cmd_start() {
  take_lock
  check_node "${1:-}"
  local pid
  if pid=$(pid_in "$(broker_pidfile "$1")"); then die "broker $1 is already running (pid $pid)"; fi
  check_java
  cluster_listeners
  start_cluster_broker "$1" || die "broker $1 failed to start; logs in $LOGS/broker-$1"
}

cmd_pid() {
  check_node "${1:-}"
  pid_in "$(broker_pidfile "$1")" || { log "broker $1 is not running"; return 1; }
}

# wait_isr: no partition is under-replicated (every replica back in its ISR).
wait_isr() {
  local deadline=$((SECONDS + ISR_TIMEOUT)) port out
  while ((SECONDS < deadline)); do
    if port=$(live_broker_port) &&
      out=$(run_tool --timeout 30 org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$port" \
        --command-config "$CONF/probe.properties" --describe --under-replicated-partitions 2>/dev/null) &&
      [[ -z $out ]]; then
      return 0
    fi
    sleep 1
  done
  log "partitions still under-replicated after ${ISR_TIMEOUT}s:"
  printf '%s\n' "$out" | head -n 20 >&2
  return 1
}

cmd_wait_isr() {
  is_cluster || die "not a cluster"
  cluster_listeners
  wait_isr
}

# roll: each broker stopped (controlled shutdown) and started in turn, as an
# operator upgrades; the next waits until the ISR has refilled.
cmd_roll() {
  take_lock
  is_cluster || die "not a cluster: '$0 up --brokers N' first"
  check_java
  cluster_listeners
  local n pid t0
  wait_isr || die "the cluster is not fully replicated before the roll"
  for ((n = 1; n <= BROKER_COUNT; n++)); do
    t0=$SECONDS
    if pid=$(pid_in "$(broker_pidfile "$n")"); then stop_pid "$pid"; fi
    start_cluster_broker "$n" || die "broker $n failed to start during the roll"
    wait_isr || die "the ISR did not refill after broker $n restarted"
    log "rolled broker $n in $((SECONDS - t0))s"
  done
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
  kill) cmd_kill "$@" ;;
  stop) cmd_stop "$@" ;;
  start) cmd_start "$@" ;;
  pid) cmd_pid "$@" ;;
  roll) cmd_roll ;;
  wait-isr) cmd_wait_isr ;;
  -h | --help | help) usage ;;
  *) usage; exit 2 ;;
  esac
}

main "$@"
