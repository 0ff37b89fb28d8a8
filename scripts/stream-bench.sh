#!/usr/bin/env bash
# stream-bench.sh — how fast journeyd's TLS NDJSON stream listener takes events durably, next to
# a plain TLS sink (socat writing to /dev/null) on the same machine, corpus and connections.
#
# Usage:  scripts/stream-bench.sh        (TMPDIR chooses where the temp directory goes)
#   EVENTS=2000000   events in the generated corpus (default 2,000,000: about 2 GB of plain NDJSON
#                    in the temp directory, and as much memory in journeyctl load)
#   CONNECTIONS=4    parallel stream connections, each sending its own slice of the corpus
#   SKIP_BUILD=1     use the release binaries already in .build-bench instead of building them
#   KEEP=1           keep the temp directory (certificates, corpus, config, state, logs)
#
# Steps: builds journeyd, journeyctl and journeybench in release mode (--scratch-path
# .build-bench); installs socat with apt-get if it is missing; makes a dev CA, server and client
# certificate (CN=bench-loader) with `journeyctl dev-certs`; writes the corpus with
# `journeybench --write-corpus`; starts journeyd (durability fsync, mutual TLS on the stream
# listener, ports chosen by the kernel and read from its `msg=ready` log line); runs
# `journeyctl load` with the client certificate while sampling the daemon's VmRSS every 0.5 s;
# stops the daemon with SIGTERM; then runs `journeyctl load --no-acks` against socat serving the
# same certificate. Prints one table. See docs/BENCHMARKS.md, "Stream load".
set -euo pipefail

EVENTS="${EVENTS:-2000000}"
CONNECTIONS="${CONNECTIONS:-4}"
SKIP_BUILD="${SKIP_BUILD:-0}"
KEEP="${KEEP:-0}"
WRITE_KEY="bench-key-0123456789"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=lib/tls-sink.sh
source "$REPO/scripts/lib/tls-sink.sh"

log() { printf 'stream-bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

WORK=""
DAEMON_PID=""
SOCAT_PID=""
SAMPLER_PID=""

cleanup() {
    local status=$?
    for pid in "$SAMPLER_PID" "$SOCAT_PID" "$DAEMON_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ $status -ne 0 && -n "$WORK" && -s "$WORK/journeyd.log" ]]; then
        log "last lines of the daemon's log:"
        tail -n 20 "$WORK/journeyd.log" >&2 || true
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ "$KEEP" == "1" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ "$EVENTS" =~ ^[1-9][0-9]*$ ]] || die "EVENTS must be a positive whole number, not '$EVENTS'"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be a positive whole number, not '$CONNECTIONS'"

# --- binaries ---------------------------------------------------------------------------------
if [[ "$SKIP_BUILD" != "1" ]]; then
    for product in journeyd journeyctl journeybench; do
        log "building $product (release)"
        swift build -c release --scratch-path .build-bench --product "$product"
    done
fi
BIN="$(swift build -c release --scratch-path .build-bench --show-bin-path)"
for product in journeyd journeyctl journeybench; do
    [[ -x "$BIN/$product" ]] || die "no $BIN/$product; run without SKIP_BUILD=1"
done

ensure_socat

# --- certificates, corpus, config -------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/stream-bench.XXXXXX")"
TLS="$WORK/tls"
"$BIN/journeyctl" dev-certs --out "$TLS" --client bench-loader >/dev/null
CLIENT_CERT="$TLS/client-bench-loader.crt"
CLIENT_KEY="$TLS/client-bench-loader.key"

CORPUS="$WORK/corpus.ndjson"
log "writing a corpus of $EVENTS events"
"$BIN/journeybench" --write-corpus "$CORPUS" --events "$EVENTS"

echo "stream-bench-admin-token-0123456789" >"$WORK/admin.token"
cat >"$WORK/journeyd.yaml" <<EOF
state_dir: $WORK/state
tls:
  certificate: $TLS/server.crt
  private_key: $TLS/server.key
  client_ca: $TLS/ca.crt
listeners:
  http: { address: "127.0.0.1:0" }
  stream: { address: "127.0.0.1:0" }
  admin: { address: "127.0.0.1:0", token_file: $WORK/admin.token }
sources:
  - { name: bench, channel: web, write_key: "$WRITE_KEY", client_subject: "CN=bench-loader" }
durability: fsync
snapshots: { interval: 1h, keep: 2 }
EOF

# The value of KEY in a flat JSON object (numbers only).
json_number() {
    grep -o "\"$1\":[-0-9.eE+]*" "$2" | head -n 1 | cut -d: -f2
}

# --- journeyd ---------------------------------------------------------------------------------
log "starting journeyd"
"$BIN/journeyd" --config "$WORK/journeyd.yaml" 2>"$WORK/journeyd.log" >/dev/null &
DAEMON_PID=$!
for _ in $(seq 1 1200); do
    grep -q 'msg=ready' "$WORK/journeyd.log" && break
    kill -0 "$DAEMON_PID" 2>/dev/null || die "journeyd exited before it was ready"
    sleep 0.1
done
READY="$(grep -m 1 'msg=ready' "$WORK/journeyd.log")" || die "journeyd did not log msg=ready within 120 s"
STREAM="$(tr ' ' '\n' <<<"$READY" | sed -n 's/^stream=//p' | tr -d '"')"
[[ -n "$STREAM" ]] || die "journeyd's ready line has no stream= address (is the stream listener in this build?): $READY"
log "journeyd ready, stream listener at $STREAM"

: >"$WORK/rss.kib"
(
    while kill -0 "$DAEMON_PID" 2>/dev/null; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" >>"$WORK/rss.kib" 2>/dev/null || true
        sleep 0.5
    done
) &
SAMPLER_PID=$!

log "journeyctl load: $CONNECTIONS connections with client certificate CN=bench-loader"
"$BIN/journeyctl" load --stream "$STREAM" --corpus "$CORPUS" --connections "$CONNECTIONS" \
    --ca "$TLS/ca.crt" --cert "$CLIENT_CERT" --key "$CLIENT_KEY" --json >"$WORK/stream.json"

kill -TERM "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
PEAK_RSS_KIB="$(sort -n "$WORK/rss.kib" | tail -n 1)"

log "stopping journeyd (SIGTERM)"
kill -TERM "$DAEMON_PID"
DAEMON_STATUS=0
wait "$DAEMON_PID" || DAEMON_STATUS=$?
DAEMON_PID=""
[[ $DAEMON_STATUS -eq 0 ]] || log "warning: journeyd exited with status $DAEMON_STATUS on SIGTERM"

# --- socat TLS sink ---------------------------------------------------------------------------
start_tls_sink "$TLS/server.crt" "$TLS/server.key" "$WORK/socat.log"

log "journeyctl load --no-acks: $CONNECTIONS connections to socat on 127.0.0.1:$SOCAT_PORT"
"$BIN/journeyctl" load --no-acks --stream "127.0.0.1:$SOCAT_PORT" --corpus "$CORPUS" --connections "$CONNECTIONS" \
    --ca "$TLS/ca.crt" --json >"$WORK/socat.json"
kill -TERM "$SOCAT_PID" 2>/dev/null || true
wait "$SOCAT_PID" 2>/dev/null || true
SOCAT_PID=""

# --- the table --------------------------------------------------------------------------------
awk -v events="$(json_number events "$WORK/stream.json")" \
    -v bytes="$(json_number bytes "$WORK/stream.json")" \
    -v conns="$CONNECTIONS" \
    -v rate="$(json_number events_per_second "$WORK/stream.json")" \
    -v mbps="$(json_number megabytes_per_second "$WORK/stream.json")" \
    -v p50="$(json_number ack_p50_ms "$WORK/stream.json")" \
    -v p99="$(json_number ack_p99_ms "$WORK/stream.json")" \
    -v errors="$(json_number error_lines "$WORK/stream.json")" \
    -v rss="${PEAK_RSS_KIB:-0}" \
    -v socat="$(json_number megabytes_per_second "$WORK/socat.json")" '
function grouped(n,   s, out) { s = sprintf("%.0f", n); out = ""; while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }; return s out }
BEGIN {
    printf "stream-bench: %s events (%.1f MB), %d connections, durability fsync, mutual TLS\n", grouped(events), bytes / 1e6, conns
    printf "| %-32s | %20s |\n", "measure", "value"
    printf "|%s|%s|\n", "----------------------------------", "----------------------"
    printf "| %-32s | %20s |\n", "stream durable events/s", grouped(rate)
    printf "| %-32s | %20.1f |\n", "stream MB/s", mbps
    printf "| %-32s | %20s |\n", "ack p50 / p99", sprintf("%.1f / %.1f ms", p50, p99)
    printf "| %-32s | %20s |\n", "error lines", grouped(errors)
    printf "| %-32s | %20s |\n", "journeyd peak RSS", sprintf("%.0f MiB", rss / 1024)
    printf "| %-32s | %20.1f |\n", "socat TLS sink MB/s", socat
    printf "| %-32s | %20s |\n", "journeyd / socat", (socat > 0 ? sprintf("%.1f %%", 100 * mbps / socat) : "-")
}'
