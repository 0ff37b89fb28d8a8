# tls-sink.sh — sourced by bench.sh and stream-bench.sh: the plain TLS sink they measure journeyd
# against (socat writing everything it receives to /dev/null). Needs a `die` function.

# Installs socat with apt-get if it is missing.
ensure_socat() {
    command -v socat >/dev/null 2>&1 && return
    printf 'installing socat\n' >&2
    local sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq socat >/dev/null
}

# start_tls_sink CERT KEY LOG: starts socat on a free loopback port with that certificate and
# waits until it accepts connections; sets SOCAT_PID and SOCAT_PORT.
start_tls_sink() {
    local cert=$1 key=$2 log=$3 candidate
    SOCAT_PORT=""
    for _ in $(seq 1 50); do
        candidate=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            SOCAT_PORT=$candidate
            break
        fi
    done
    [[ -n "$SOCAT_PORT" ]] || die "found no free port for socat"
    socat -u "OPENSSL-LISTEN:$SOCAT_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$cert,key=$key,verify=0" /dev/null 2>"$log" &
    SOCAT_PID=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$SOCAT_PORT") 2>/dev/null && return
        kill -0 "$SOCAT_PID" 2>/dev/null || die "socat exited: $(cat "$log")"
        sleep 0.1
    done
    die "socat did not accept connections on 127.0.0.1:$SOCAT_PORT within 10 s"
}
