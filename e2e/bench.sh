#!/usr/bin/env bash
# Side-by-side throughput: iperf3 (TCP, one stream) through the tunnel for each pairing of our
# server/client with the real OpenVPN 2.6, reported as a ratio to openvpn <-> openvpn.
#
#   e2e/bench.sh             (as root; build first: cargo build --release -p ovpn-examples --bins)
#
# Env: PROTO=udp CIPHERS="AES-256-GCM/SHA1 AES-256-CBC/SHA256" DURATION=5 REPEAT=3,
# BIN_DIR=target/release, OUT=target/e2e/bench.md. Not part of the tests: figures, not assertions.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="${BIN_DIR:-$ROOT/target/release}"
WORK="${WORK:-$ROOT/target/e2e}"
OUT="${OUT:-$WORK/bench.md}"
PKI="$ROOT/testdata/pki"
PROTO="${PROTO:-udp}"
CIPHERS="${CIPHERS:-AES-256-GCM/SHA1 AES-256-CBC/SHA256}"
DURATION="${DURATION:-5}"
REPEAT="${REPEAT:-3}"

[ "$(id -u)" = 0 ] || { echo "bench: needs root"; exit 1; }
for t in openvpn iperf3 ip python3; do
    command -v "$t" >/dev/null || { echo "bench: missing $t"; exit 1; }
done
for b in ovpn-server ovpn-client; do
    [ -x "$BIN_DIR/$b" ] || { echo "bench: missing $BIN_DIR/$b (cargo build --release -p ovpn-examples --bins)"; exit 1; }
done

# shellcheck source=lib.sh
. "$ROOT/e2e/lib.sh"
mkdir -p "$WORK"

# Defaults the configuration writers read.
CLIENT_CERT=client1 SERVER_REQUIRE_CERT=1 USERNAME=client1 PASSWORD=StrongPassword1
KEEPALIVE=60 SERVER_PROPS="" CLIENT_PROPS="" SERVER_CONF_EXTRA=""

# measure SERVER_IMPL CLIENT_IMPL DIRECTION(""|-R) -> median Mbit/s of REPEAT runs on stdout
measure() {
    local simpl="$1" cimpl="$2" dir="$WORK/bench-$1-$2-${CIPHER}" spid cpid ipid up_re
    rm -rf "$dir" && mkdir -p "$dir"
    netns_up || { echo 0; return; }
    CASE="bench-$simpl-$cimpl"
    if [ "$simpl" = ours ]; then
        write_our_server "$dir"
        start "$NS_S" "$dir" "$dir/server.log" "$BIN_DIR/ovpn-server" --state-dir "$dir/s" run "$dir/server.rsc"
    else
        write_openvpn_server "$dir"
        start "$NS_S" "$dir" "$dir/server.log" openvpn --config server.conf
    fi
    spid=$STARTED_PID
    sleep 1
    if [ "$cimpl" = ours ]; then
        write_our_client "$dir"
        start "$NS_C" "$dir" "$dir/client.log" "$BIN_DIR/ovpn-client" --state-dir "$dir/c" run "$dir/client.rsc"
        up_re='ovpn-out1: connected'
    else
        write_openvpn_client "$dir"
        start "$NS_C" "$dir" "$dir/client.log" openvpn --config client.conf
        up_re='Initialization Sequence Completed'
    fi
    cpid=$STARTED_PID
    if ! wait_log "$dir/client.log" "$up_re" 20 "$cpid"; then
        echo "0 0"; stop_pid "$cpid"; stop_pid "$spid"; return
    fi
    start "$NS_S" "$dir" "$dir/iperf3-s.log" iperf3 -s -B "$TUN_SRV"
    ipid=$STARTED_PID
    sleep 0.5
    local fwd=() rev=() r
    for r in $(seq 1 "$REPEAT"); do
        for d in "" -R; do
            ip netns exec "$NS_C" iperf3 -c "$TUN_SRV" -t "$DURATION" $d -J >"$dir/iperf$d-$r.json" 2>&1
            local mbps
            mbps=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e6))' "$dir/iperf$d-$r.json" 2>/dev/null || echo 0)
            if [ -z "$d" ]; then fwd+=("$mbps"); else rev+=("$mbps"); fi
        done
    done
    stop_pid "$ipid"; stop_pid "$cpid"; stop_pid "$spid"
    med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
    echo "$(med "${fwd[@]}") $(med "${rev[@]}")"
}

{
    echo "## Throughput side by side ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "iperf3 TCP, one stream, ${DURATION} s, median of ${REPEAT}, client -> server and -R (server -> client);"
    echo "$PROTO transport, two network namespaces on one 2-vCPU machine; $(openvpn --version | head -1 | cut -d' ' -f1-2)."
    echo "Ratios are to openvpn <-> openvpn in the same run."
    echo
    echo "| cipher | server | client | c->s Mbit/s | ratio | s->c Mbit/s | ratio |"
    echo "|---|---|---|---:|---:|---:|---:|"
} >"$OUT"
for pair in $CIPHERS; do
    CIPHER=${pair%/*}; AUTH=${pair#*/}
    read -r base_f base_r < <(measure openvpn openvpn)
    for combo in "openvpn openvpn" "ours openvpn" "openvpn ours" "ours ours"; do
        set -- $combo
        if [ "$combo" = "openvpn openvpn" ]; then f=$base_f; r=$base_r; else read -r f r < <(measure "$1" "$2"); fi
        rf=$(awk -v a="$f" -v b="$base_f" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')
        rr=$(awk -v a="$r" -v b="$base_r" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')
        line="| $CIPHER/$AUTH | $1 | $2 | $f | $rf | $r | $rr |"
        echo "$line" | tee -a "$OUT"
    done
done
echo "bench: table in $OUT"
