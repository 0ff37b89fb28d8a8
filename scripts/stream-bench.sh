#!/usr/bin/env bash
# stream-bench.sh — how fast journeyd's TLS NDJSON stream listener takes events durably, next to
# a plain TLS sink (socat writing to /dev/null) on the same machine, corpus and connections.
#
# Usage:  scripts/stream-bench.sh        (TMPDIR chooses where the temp directory goes)
#   EVENTS=2000000   events in the generated corpus (default 2,000,000: about 2 GB of plain NDJSON
#                    in the temp directory, and as much memory in journeyctl load)
#   CONNECTIONS=4    parallel stream connections
#   INTERLEAVE=1000  lines per run when the corpus is dealt out to the connections in turn
#   LEAN=1           lean events (`journeybench --lean`: ~450 bytes, the size bulk feeds send)
#                    instead of full analytics.js/mobile SDK events (~990 bytes)
#   SKIP_BUILD=1     use the release binaries already in .build-bench instead of building them
#   KEEP=1           keep the temp directory (certificates, corpus, configs, logs, reports)
#
# Steps: builds journeyd, journeyctl and journeybench in release mode (--scratch-path
# .build-bench); installs socat with apt-get if it is missing; makes a dev CA, server and client
# certificate (CN=bench-loader) with `journeyctl dev-certs`; writes the corpus with
# `journeybench --write-corpus`. Then two passes, each on a fresh journeyd (durability fsync,
# mutual TLS on the stream listener, ports chosen by the kernel and read from its `msg=ready` log
# line), sampled for VmRSS every 0.5 s and asked for its `/v1/stats` at the end:
#   feeds in step  `journeyctl load --interleave INTERLEAVE`: the connections send from the same
#                  stretch of the corpus at the same time, like parallel feeds of one live stream;
#   slices         each connection sends its own contiguous slice (with 4 connections, a quarter
#                  of the corpus's history each), so most of what one sends is out of order for
#                  the others' customers: the stitcher's worst case.
# Last, `journeyctl load --no-acks` sends the same corpus to socat serving the same certificate.
# Prints one table. See docs/BENCHMARKS.md, "Stream load".
set -euo pipefail

EVENTS="${EVENTS:-2000000}"
CONNECTIONS="${CONNECTIONS:-4}"
INTERLEAVE="${INTERLEAVE:-1000}"
LEAN="${LEAN:-0}"
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
LOG_FILE=""
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
    if [[ $status -ne 0 && -n "$LOG_FILE" && -s "$LOG_FILE" ]]; then
        log "last lines of the daemon's log:"
        tail -n 20 "$LOG_FILE" >&2 || true
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
[[ "$INTERLEAVE" =~ ^[1-9][0-9]*$ ]] || die "INTERLEAVE must be a positive whole number, not '$INTERLEAVE'"
[[ "$LEAN" =~ ^[01]$ ]] || die "LEAN must be 0 or 1, not '$LEAN'"

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

# --- certificates, corpus --------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/stream-bench.XXXXXX")"
TLS="$WORK/tls"
"$BIN/journeyctl" dev-certs --out "$TLS" --client bench-loader >/dev/null
CLIENT_CERT="$TLS/client-bench-loader.crt"
CLIENT_KEY="$TLS/client-bench-loader.key"

CORPUS="$WORK/corpus.ndjson"
CORPUS_SHAPE=()
[[ "$LEAN" == "1" ]] && CORPUS_SHAPE=(--lean)
log "writing a corpus of $EVENTS events ${CORPUS_SHAPE[*]}"
"$BIN/journeybench" --write-corpus "$CORPUS" --events "$EVENTS" "${CORPUS_SHAPE[@]}"
echo "stream-bench-admin-token-0123456789" >"$WORK/admin.token"

# The value of KEY in a flat JSON object (numbers only; 0 when absent).
json_number() {
    local value
    value="$(grep -o "\"$1\":[-0-9.eE+]*" "$2" 2>/dev/null | head -n 1 | cut -d: -f2)"
    echo "${value:-0}"
}

# daemon_pass NAME [LOAD OPTIONS…]: a fresh journeyd with its own state directory, `journeyctl
# load` with those options, then /v1/stats and SIGTERM. Leaves NAME.json (the load report),
# NAME-stats.json, NAME.rss (peak VmRSS, KiB) and journeyd-NAME.log in $WORK.
daemon_pass() {
    local name="$1"
    shift
    LOG_FILE="$WORK/journeyd-$name.log"
    cat >"$WORK/$name.yaml" <<CONFIG
state_dir: $WORK/state-$name
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
CONFIG

    log "$name: starting journeyd"
    "$BIN/journeyd" --config "$WORK/$name.yaml" 2>"$LOG_FILE" >/dev/null &
    DAEMON_PID=$!
    for _ in $(seq 1 1200); do
        grep -q 'msg=ready' "$LOG_FILE" && break
        kill -0 "$DAEMON_PID" 2>/dev/null || die "journeyd exited before it was ready"
        sleep 0.1
    done
    local ready stream admin
    ready="$(grep -m 1 'msg=ready' "$LOG_FILE")" || die "journeyd did not log msg=ready within 120 s"
    stream="$(tr ' ' '\n' <<<"$ready" | sed -n 's/^stream=//p' | tr -d '"')"
    admin="$(tr ' ' '\n' <<<"$ready" | sed -n 's/^admin=//p' | tr -d '"')"
    [[ -n "$stream" && -n "$admin" ]] || die "journeyd's ready line lacks a stream= or admin= address: $ready"

    : >"$WORK/$name.rss-samples"
    (
        while kill -0 "$DAEMON_PID" 2>/dev/null; do
            awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" >>"$WORK/$name.rss-samples" 2>/dev/null || true
            sleep 0.5
        done
    ) &
    SAMPLER_PID=$!

    log "$name: journeyctl load $* ($CONNECTIONS connections, client certificate CN=bench-loader)"
    "$BIN/journeyctl" load --stream "$stream" --corpus "$CORPUS" --connections "$CONNECTIONS" "$@" \
        --ca "$TLS/ca.crt" --cert "$CLIENT_CERT" --key "$CLIENT_KEY" --json >"$WORK/$name.json"
    curl -sf -H "Authorization: Bearer $(cat "$WORK/admin.token")" "http://$admin/v1/stats" >"$WORK/$name-stats.json" ||
        log "$name: warning: /v1/stats did not answer"

    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    sort -n "$WORK/$name.rss-samples" | tail -n 1 >"$WORK/$name.rss"

    log "$name: stopping journeyd (SIGTERM)"
    kill -TERM "$DAEMON_PID"
    local status=0
    wait "$DAEMON_PID" || status=$?
    DAEMON_PID=""
    [[ $status -eq 0 ]] || log "$name: warning: journeyd exited with status $status on SIGTERM"
    rm -rf "$WORK/state-$name"
}

# --- journeyd: feeds in step, then contiguous slices ------------------------------------------
daemon_pass step --interleave "$INTERLEAVE"
daemon_pass slices
LOG_FILE=""

# --- socat TLS sink ---------------------------------------------------------------------------
start_tls_sink "$TLS/server.crt" "$TLS/server.key" "$WORK/socat.log"

log "journeyctl load --no-acks: $CONNECTIONS connections to socat on 127.0.0.1:$SOCAT_PORT"
"$BIN/journeyctl" load --no-acks --stream "127.0.0.1:$SOCAT_PORT" --corpus "$CORPUS" --connections "$CONNECTIONS" \
    --ca "$TLS/ca.crt" --json >"$WORK/socat.json"
kill -TERM "$SOCAT_PID" 2>/dev/null || true
wait "$SOCAT_PID" 2>/dev/null || true
SOCAT_PID=""

# --- the table --------------------------------------------------------------------------------
grouped() {
    awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }; print s o }'
}
# value PASS KEY: from the pass's load report, or (re_* keys) from its /v1/stats.
value() {
    local file="$WORK/$1.json"
    [[ "$2" == re_* ]] && file="$WORK/$1-stats.json"
    json_number "$2" "$file"
}
row() { printf '| %-46s | %24s | %24s |\n' "$1" "$2" "$3"; }
both() { row "$1" "$("$2" step)" "$("$2" slices)"; }
rate() { grouped "$(value "$1" events_per_second)"; }
mbps() { printf '%.1f' "$(value "$1" megabytes_per_second)"; }
acks() { printf '%.1f / %.1f ms' "$(value "$1" ack_p50_ms)" "$(value "$1" ack_p99_ms)"; }
errors() { grouped "$(value "$1" error_lines)"; }
replays() { printf '%s (%s)' "$(grouped "$(value "$1" re_resolutions)")" "$(grouped "$(value "$1" re_resolved_touchpoints)")"; }
rss() { awk '{ printf "%.0f MiB", $1 / 1024 }' "$WORK/$1.rss"; }
SOCAT_MBPS="$(json_number megabytes_per_second "$WORK/socat.json")"
share() { awk -v a="$(value "$1" megabytes_per_second)" -v b="$SOCAT_MBPS" 'BEGIN { if (b > 0) printf "%.1f %%", 100 * a / b; else print "-" }'; }

printf 'stream-bench: %s events (%.1f MB, %.0f B each), %d connections, durability fsync, mutual TLS\n' \
    "$(grouped "$(value step events)")" "$(awk -v b="$(value step bytes)" 'BEGIN { print b / 1e6 }')" \
    "$(awk -v b="$(value step bytes)" -v n="$(value step events)" 'BEGIN { print (n > 0 ? b / n : 0) }')" "$CONNECTIONS"
row "measure" "feeds in step" "contiguous slices"
printf '|%s|%s|%s|\n' "------------------------------------------------" "--------------------------" "--------------------------"
both "stream durable events/s" rate
both "stream MB/s" mbps
both "ack p50 / p99" acks
both "error lines" errors
both "components re-resolved (touchpoints replayed)" replays
both "journeyd peak RSS" rss
row "socat TLS sink MB/s (same corpus, --no-acks)" "$(printf '%.1f' "$SOCAT_MBPS")" ""
both "journeyd / socat" share
