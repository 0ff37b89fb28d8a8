#!/usr/bin/env bash
# bench.sh — the one benchmark of journeyd end to end: ingest over HTTPS batches and over the TLS
# stream (durable, fsync), the same at half the measured peak rate (ack p99), memory per stored
# touchpoint, snapshot time, restart to ready, stitching precision/recall/F1 against the ground
# truth, and a plain TLS sink (socat) on the same bytes. Prints one table with the targets.
#
# Usage:  scripts/bench.sh        (TMPDIR chooses where the temp directory goes)
#   CUSTOMERS=20000   simulated customers (about 20 events each; the default run takes 3–4 minutes
#                     on 2 cores once the release build exists)
#   CONNECTIONS=4     parallel connections for every pass
#   BATCH=100         events per HTTPS batch
#   SEED=1            simulation seed
#   GZIP=1            gzip the HTTPS bodies
#   SKIP_BUILD=1      use the release binaries already in .build-bench
#   KEEP=1            keep the temp directory (corpus, ground truth, configs, states, logs, JSON results)
#
# Steps (docs/BENCHMARKS.md, "The whole-system benchmark"): builds journeyd and journeyctl in release
# mode (--scratch-path .build-bench); installs socat with apt-get if missing; makes a dev CA and a
# server certificate; `journeyctl simulate --write-corpus` generates the population once (events
# per source, ground truth). Each pass starts a fresh journeyd (durability fsync, its own state
# directory, ports from its msg=ready line) with the simulation's sources and sends the same
# events with `journeyctl simulate`:
#   1. HTTPS at full speed; then RSS, a snapshot (timed), `journeyctl score`, SIGTERM and a timed
#      restart to ready on the same state;
#   2. the stream at full speed;
#   3. HTTPS at half the rate of pass 1, and 4. the stream at half the rate of pass 2 (ack p99);
#   5. socat: `journeyctl load --no-acks` sends the same event files to a plain TLS sink.
set -euo pipefail

CUSTOMERS="${CUSTOMERS:-20000}"
CONNECTIONS="${CONNECTIONS:-4}"
BATCH="${BATCH:-100}"
SEED="${SEED:-1}"
GZIP="${GZIP:-0}"
SKIP_BUILD="${SKIP_BUILD:-0}"
KEEP="${KEEP:-0}"
KEY_PREFIX="bench"
ADMIN_TOKEN="bench-admin-token-0123456789"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=lib/tls-sink.sh
source "$REPO/scripts/lib/tls-sink.sh"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

WORK=""
DAEMON_PID=""
SOCAT_PID=""

cleanup() {
    local status=$?
    for pid in "$SOCAT_PID" "$DAEMON_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ $status -ne 0 && -n "$WORK" ]]; then
        local last
        last="$(ls -t "$WORK"/journeyd-*.log 2>/dev/null | head -n 1 || true)"
        if [[ -n "$last" ]]; then
            log "last lines of $last:"
            tail -n 20 "$last" >&2 || true
        fi
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ "$KEEP" == "1" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for name in CUSTOMERS CONNECTIONS BATCH SEED; do
    [[ "${!name}" =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive whole number, not '${!name}'"
done
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the table (apt-get install python3)"

# --- binaries ---------------------------------------------------------------------------------
if [[ "$SKIP_BUILD" != "1" ]]; then
    for product in journeyd journeyctl; do
        log "building $product (release)"
        swift build -c release --scratch-path .build-bench --product "$product"
    done
fi
BIN="$(swift build -c release --scratch-path .build-bench --show-bin-path)"
for product in journeyd journeyctl; do
    [[ -x "$BIN/$product" ]] || die "no $BIN/$product; run without SKIP_BUILD=1"
done
ensure_socat

# --- certificates, simulation, config ---------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/journeyd-bench.XXXXXX")"
TLS="$WORK/tls"
"$BIN/journeyctl" dev-certs --out "$TLS" >/dev/null
echo "$ADMIN_TOKEN" >"$WORK/admin.token"
SIM="$WORK/simulation"
SIMULATE=("$BIN/journeyctl" simulate --customers "$CUSTOMERS" --seed "$SEED" --key-prefix "$KEY_PREFIX" --out "$SIM")
log "generating $CUSTOMERS customers"
"${SIMULATE[@]}" --write-corpus --json >"$WORK/generated.json"

# Writes the config of daemon NAME (its own state directory) to $WORK/NAME.yaml.
write_config() {
    cat >"$WORK/$1.yaml" <<EOF
state_dir: $WORK/state-$1
tls:
  certificate: $TLS/server.crt
  private_key: $TLS/server.key
listeners:
  http: { address: "127.0.0.1:0" }
  stream: { address: "127.0.0.1:0" }
  admin: { address: "127.0.0.1:0", token_file: $WORK/admin.token }
durability: fsync
snapshots: { interval: 1h, keep: 2 }
$(cat "$SIM/journeyd-sources.yaml")
EOF
}

# Starts daemon NAME and waits for msg=ready; sets HTTP, STREAM, ADMIN and READY_SECONDS.
start_daemon() {
    local name=$1 log="$WORK/journeyd-$1.log" started ready
    [[ -f "$WORK/$name.yaml" ]] || write_config "$name"
    started=$(date +%s.%N)
    "$BIN/journeyd" --config "$WORK/$name.yaml" 2>>"$log" >/dev/null &
    DAEMON_PID=$!
    for _ in $(seq 1 6000); do
        ready="$(grep 'msg=ready' "$log" | tail -n 1 || true)"
        [[ -n "$ready" && "$(grep -c 'msg=ready' "$log")" -ge "${2:-1}" ]] && break
        kill -0 "$DAEMON_PID" 2>/dev/null || die "journeyd ($name) exited before it was ready"
        sleep 0.05
    done
    READY_SECONDS=$(python3 -c "print(f'{$(date +%s.%N) - $started:.2f}')")
    [[ -n "$ready" ]] || die "journeyd ($name) did not log msg=ready within 5 minutes"
    HTTP="$(tr ' ' '\n' <<<"$ready" | sed -n 's/^http=//p' | tr -d '"')"
    STREAM="$(tr ' ' '\n' <<<"$ready" | sed -n 's/^stream=//p' | tr -d '"')"
    ADMIN="$(tr ' ' '\n' <<<"$ready" | sed -n 's/^admin=//p' | tr -d '"')"
}

stop_daemon() {
    kill -TERM "$DAEMON_PID"
    local status=0
    wait "$DAEMON_PID" || status=$?
    DAEMON_PID=""
    [[ $status -eq 0 ]] || log "warning: journeyd exited with status $status on SIGTERM"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }

# The value at a dotted PATH of the JSON object in FILE.
json() { python3 -c "import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2].split('.')]; print(v)" "$2" "$1"; }

HTTPS_FLAGS=(--batch-size "$BATCH")
[[ "$GZIP" == "1" ]] && HTTPS_FLAGS+=(--gzip)
send() {  # send NAME VIA ADDRESS [extra flags…]: simulate's JSON summary to $WORK/NAME.json
    local name=$1 via=$2 address=$3
    shift 3
    log "pass $name: $via to $address $*"
    "${SIMULATE[@]}" "--$via" "$address" --ca "$TLS/ca.crt" --connections "$CONNECTIONS" --json "$@" >"$WORK/$name.json"
}

# --- 1. HTTPS at full speed, memory, snapshot, score, restart ---------------------------------
start_daemon https
RSS_READY=$(rss_kib)
send https https "$HTTP" "${HTTPS_FLAGS[@]}"
RSS_END=$(rss_kib)
curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "http://$ADMIN/v1/stats" >"$WORK/stats.json"
SNAPSHOT_SECONDS=$(curl -s -o "$WORK/snapshot.json" -w '%{time_total}' -X POST -H "Authorization: Bearer $ADMIN_TOKEN" "http://$ADMIN/v1/snapshots")
"$BIN/journeyctl" score "$WORK/state-https" --truth "$SIM" --json >"$WORK/score.json"
stop_daemon
log "restarting journeyd on the state of pass 1"
start_daemon https 2
RESTART_SECONDS=$READY_SECONDS
stop_daemon

# --- 2. the stream at full speed --------------------------------------------------------------
start_daemon stream
send stream stream "$STREAM"
stop_daemon

# --- 3, 4. half the peak rates ----------------------------------------------------------------
HTTPS_HALF=$(python3 -c "print(int($(json events_per_second "$WORK/https.json") / 2))")
STREAM_HALF=$(python3 -c "print(int($(json events_per_second "$WORK/stream.json") / 2))")
start_daemon https-half
send https-half https "$HTTP" "${HTTPS_FLAGS[@]}" --rate "$HTTPS_HALF"
stop_daemon
start_daemon stream-half
send stream-half stream "$STREAM" --rate "$STREAM_HALF" --write-size 16KiB
stop_daemon

# --- 5. socat TLS sink on the same bytes ------------------------------------------------------
cat "$SIM"/events/*.jsonl.gz >"$WORK/all-events.jsonl.gz"
start_tls_sink "$TLS/server.crt" "$TLS/server.key" "$WORK/socat.log"
log "pass socat: journeyctl load --no-acks to 127.0.0.1:$SOCAT_PORT"
"$BIN/journeyctl" load --no-acks --stream "127.0.0.1:$SOCAT_PORT" --corpus "$WORK/all-events.jsonl.gz" \
    --connections "$CONNECTIONS" --ca "$TLS/ca.crt" --json >"$WORK/socat.json"
kill -TERM "$SOCAT_PID" 2>/dev/null || true
wait "$SOCAT_PID" 2>/dev/null || true
SOCAT_PID=""

# --- the table --------------------------------------------------------------------------------
python3 - "$WORK" "$CUSTOMERS" "$CONNECTIONS" "$BATCH" "$GZIP" "$RSS_READY" "$RSS_END" "$SNAPSHOT_SECONDS" "$RESTART_SECONDS" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" <<'PY'
import json, sys
work, customers, connections, batch, gzip, rss_ready, rss_end, snapshot_s, restart_s, commit = sys.argv[1:]
load = lambda name: json.load(open(f"{work}/{name}.json"))
generated, https, stream = load("generated"), load("https"), load("stream")
https_half, stream_half, socat, score, stats = load("https-half"), load("stream-half"), load("socat"), load("score"), load("stats")
touchpoints = stats.get("touchpoints") or score["events"]["stored_rows"]
per_touchpoint = (int(rss_end) - int(rss_ready)) * 1024 / max(touchpoints, 1)
net = per_touchpoint - score["properties_bytes_mean"]
jd, cc = score["journeyd"], score["connected_components"]
ratio = stream["megabytes_per_second"] / socat["megabytes_per_second"] if socat["megabytes_per_second"] else 0
rows = []
def row(measure, value, target="", met=None):
    rows.append((measure, value, target, "" if met is None else ("met" if met else "missed")))
def rate(r): return f"{r['events_per_second']:,.0f} events/s"
def lat(r): return f"{r['latency']['p50_ms']:.1f} / {r['latency']['p99_ms']:.1f} ms"
row("HTTPS batches: ingest", rate(https), "≥ 250,000 events/s", https["events_per_second"] >= 250_000)
row("HTTPS batches: ack p50 / p99 at peak", lat(https))
row(f"HTTPS at half peak ({https_half['target_rate']:,.0f}/s): p50 / p99", lat(https_half), "p99 ≤ 10 ms", https_half["latency"]["p99_ms"] <= 10)
row("stream: ingest", rate(stream), "≥ 400,000 events/s", stream["events_per_second"] >= 400_000)
row("stream: ack p50 / p99 at peak", lat(stream))
row(f"stream at half peak ({stream_half['target_rate']:,.0f}/s): p50 / p99", lat(stream_half), "p99 ≤ 10 ms", stream_half["latency"]["p99_ms"] <= 10)
row("socat TLS sink (same bytes)", f"{socat['megabytes_per_second']:.1f} MB/s, {socat['events_per_second']:,.0f} events/s")
row("stream / socat", f"{100 * ratio:.1f} % ({stream['megabytes_per_second']:.1f} vs {socat['megabytes_per_second']:.1f} MB/s)")
row("journeyd RSS at end of pass 1", f"{int(rss_end) / 1024:.0f} MiB ({int(rss_ready) / 1024:.0f} MiB at ready)")
row("RSS per stored touchpoint (net of properties)", f"{per_touchpoint:.0f} B ({net:.0f} B net of {score['properties_bytes_mean']:.0f} B)", "≤ 150 B net", net <= 150)
row("snapshot (POST /v1/snapshots)", f"{float(snapshot_s):.2f} s")
row("restart to ready", f"{float(restart_s):.2f} s")
row("events lost / stored twice", f"{score['events']['lost']} / {score['events']['duplicated']}", "0 / 0", score["events"]["lost"] == 0 and score["events"]["duplicated"] == 0)
row("stitching precision (journeyd)", f"{jd['precision']:.4f}", "≥ 0.995", jd["precision"] >= 0.995)
row("stitching recall (journeyd)", f"{jd['recall']:.4f}", "≥ 0.99", jd["recall"] >= 0.99)
row("stitching F1 (journeyd)", f"{jd['f1']:.4f}")
row("connected components P / R / F1", f"{cc['precision']:.4f} / {cc['recall']:.4f} / {cc['f1']:.4f}")
row("households merged: journeyd / conn. comp.", f"{jd['households_merged']} / {cc['households_merged']} of {score['households']}")
errors = sum(r.get("rejected") or 0 for r in (https, stream, https_half, stream_half)) + sum(r.get("failures") or 0 for r in (https, stream, https_half, stream_half))
row("rejected events + failed requests (all passes)", f"{errors}", "0", errors == 0)
print(f"bench: commit {commit}, {int(customers):,} customers, {generated['unique_events']:,} events ({generated['deliveries']:,} deliveries), "
      f"{connections} connections, HTTPS batches of {batch}{' gzip' if gzip == '1' else ''}, durability fsync")
widths = [max(len(r[i]) for r in rows + [("measure", "value", "target", "status")]) for i in range(4)]
line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
print(line(("measure", "value", "target", "status")))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows: print(line(r))
PY
