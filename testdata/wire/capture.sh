#!/usr/bin/env bash
# capture.sh [OUTDIR] -- capture packets from the real OpenVPN 2.6 as hex fixtures for ovpn-wire.
#
# Runs as root. Creates two network namespaces (ow-srv, ow-cli) joined by a veth pair
# (ow-veth-s 172.31.254.1/30 <-> ow-veth-c 172.31.254.2/30), a throw-away EC PKI and static keys
# in a temporary directory, then for each case starts `openvpn` as server in ow-srv and as client
# in ow-cli, captures on the veth with tcpdump until the tunnel is up and a few pings went
# through it, and writes OUTDIR/<case>.hex (default OUTDIR: this script's directory).
# Everything it creates is removed on exit. The tests read the committed .hex files; they never
# run this script.
#
# Cases: udp-plain, udp-tls-auth (SHA1, 20-byte HMAC), udp-tls-crypt, udp-tls-crypt-v2,
# tcp-plain, tcp-tls-auth. Restrict with CASES="udp-plain tcp-plain".
#
# Fixture format (read by ovpn-wire/tests/fixtures.rs and the ovpn-dissect example):
#   # comment lines; "# protection: none|tls-auth:N|tls-crypt" and "# transport: udp|tcp"
#   c2s <hex>  # what it is       one UDP datagram, or one TCP segment payload, per line;
#   s2c <hex>  # what it is       c2s = client to server, s2c = server to client
# Only the control packets and the first DATA_PACKETS (default 3) data packets per direction are
# kept. Needs: openvpn (2.6), openssl, tcpdump, iproute2, python3.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(cd "${1:-$HERE}" && pwd)"
CASES="${CASES:-udp-plain udp-tls-auth udp-tls-crypt udp-tls-crypt-v2 tcp-plain tcp-tls-auth}"
DATA_PACKETS="${DATA_PACKETS:-3}"
NS_S=ow-srv NS_C=ow-cli VETH_S=ow-veth-s VETH_C=ow-veth-c
SRV_IP=172.31.254.1 CLI_IP=172.31.254.2 PORT=1194 TUN_SRV=10.254.0.1

[ "$(id -u)" = 0 ] || { echo "capture.sh: must run as root" >&2; exit 1; }
for tool in openvpn openssl tcpdump ip python3; do
    command -v "$tool" >/dev/null || { echo "capture.sh: $tool not found" >&2; exit 1; }
done

WORK="$(mktemp -d /tmp/ow-capture.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns del "$NS_C" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- network: two namespaces and a veth pair --------------------------------------------------
for ns in "$NS_S" "$NS_C"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
        echo "capture.sh: namespace $ns already exists (another run?)" >&2
        exit 1
    fi
done
ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add "$VETH_S" netns "$NS_S" type veth peer name "$VETH_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SRV_IP/30" dev "$VETH_S"
ip -n "$NS_C" addr add "$CLI_IP/30" dev "$VETH_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$VETH_S" up
ip -n "$NS_C" link set "$VETH_C" up

# --- PKI: EC P-256 keeps the certificate messages (and the fixtures) small --------------------
PKI="$WORK/pki"
mkdir -p "$PKI"
(
    cd "$PKI"
    umask 077
    newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${newkey[@]}" -keyout ca.key -out ca.crt -days 3650 -subj /CN=ow-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        'extendedKeyUsage=serverAuth' >server.ext
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        'extendedKeyUsage=clientAuth' >client.ext
    for who in server client; do
        openssl req -new "${newkey[@]}" -keyout "$who.key" -out "$who.csr" -subj "/CN=ow-$who" \
            2>/dev/null
        openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
            -days 3650 -extfile "$who.ext" -out "$who.crt" 2>/dev/null
    done
    openvpn --genkey secret ta.key >/dev/null
    openvpn --genkey tls-crypt-v2-server tcv2-server.key >/dev/null
    openvpn --tls-crypt-v2 tcv2-server.key --genkey tls-crypt-v2-client tcv2-client.key >/dev/null
)

# wait_for FILE REGEX SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture.sh: timed out waiting for /$2/ in $1" >&2
    tail -20 "$1" >&2 || true
    return 1
}

# stop PID: TERM, wait for it, drop it from PIDS
stop() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=() pid
    for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
}

capture_case() {
    local name="$1" proto="${1%%-*}" mode="${1#*-}"
    local dir="$WORK/$name"
    mkdir -p "$dir"
    local srv_proto=udp cli_proto=udp protection=none srv_wrap=() cli_wrap=()
    if [ "$proto" = tcp ]; then srv_proto=tcp-server cli_proto=tcp-client; fi
    case "$mode" in
        plain) ;;
        tls-auth) protection=tls-auth:20
            srv_wrap=("tls-auth $PKI/ta.key 0" "auth SHA1")
            cli_wrap=("tls-auth $PKI/ta.key 1" "auth SHA1") ;;
        tls-crypt) protection=tls-crypt
            srv_wrap=("tls-crypt $PKI/ta.key"); cli_wrap=("tls-crypt $PKI/ta.key") ;;
        tls-crypt-v2) protection=tls-crypt
            srv_wrap=("tls-crypt-v2 $PKI/tcv2-server.key"); cli_wrap=("tls-crypt-v2 $PKI/tcv2-client.key") ;;
        *) echo "capture.sh: unknown case $name" >&2; return 1 ;;
    esac
    printf '%s\n' "dev tun" "proto $srv_proto" "local $SRV_IP" "port $PORT" "topology subnet" \
        "server 10.254.0.0 255.255.255.0" "ca $PKI/ca.crt" "cert $PKI/server.crt" \
        "key $PKI/server.key" "dh none" "data-ciphers AES-256-GCM" "keepalive 2 20" "verb 3" \
        "${srv_wrap[@]}" >"$dir/server.conf"
    printf '%s\n' "client" "dev tun" "proto $cli_proto" "remote $SRV_IP $PORT" "nobind" \
        "ca $PKI/ca.crt" "cert $PKI/client.crt" "key $PKI/client.key" "remote-cert-tls server" \
        "data-ciphers AES-256-GCM" "verb 3" "${cli_wrap[@]}" >"$dir/client.conf"

    ip netns exec "$NS_S" tcpdump -i "$VETH_S" -U -s 0 -w "$dir/capture.pcap" \
        "host $SRV_IP and port $PORT" >"$dir/tcpdump.log" 2>&1 &
    local tcpdump_pid=$!
    PIDS+=("$tcpdump_pid")
    wait_for "$dir/tcpdump.log" "listening on" 10

    ip netns exec "$NS_S" openvpn --config "$dir/server.conf" >"$dir/server.log" 2>&1 &
    local server_pid=$!
    PIDS+=("$server_pid")
    wait_for "$dir/server.log" "Initialization Sequence Completed" 20

    ip netns exec "$NS_C" openvpn --config "$dir/client.conf" >"$dir/client.log" 2>&1 &
    local client_pid=$!
    PIDS+=("$client_pid")
    wait_for "$dir/client.log" "Initialization Sequence Completed" 30
    ip netns exec "$NS_C" ping -c 2 -i 0.3 -W 2 "$TUN_SRV" >"$dir/ping.log" 2>&1 || {
        echo "capture.sh: $name: ping through the tunnel failed" >&2
        cat "$dir/ping.log" >&2
        return 1
    }
    sleep 0.5

    stop "$client_pid"
    stop "$server_pid"
    sleep 0.3
    kill -INT "$tcpdump_pid" 2>/dev/null || true
    wait "$tcpdump_pid" 2>/dev/null || true
    stop "$tcpdump_pid"

    python3 - "$dir/capture.pcap" "$OUT/$name.hex" "$name" "$protection" "$proto" "$CLI_IP" \
        "$DATA_PACKETS" "$(openvpn --version | head -1 | awk '{print $2}')" <<'PY'
import struct, sys

pcap, out, name, protection, transport, cli_ip, data_max, version = sys.argv[1:9]
data_max = int(data_max)
cli = bytes(int(x) for x in cli_ip.split("."))
NAMES = {1: "P_CONTROL_HARD_RESET_CLIENT_V1", 2: "P_CONTROL_HARD_RESET_SERVER_V1",
         3: "P_CONTROL_SOFT_RESET_V1", 4: "P_CONTROL_V1", 5: "P_ACK_V1", 6: "P_DATA_V1",
         7: "P_CONTROL_HARD_RESET_CLIENT_V2", 8: "P_CONTROL_HARD_RESET_SERVER_V2", 9: "P_DATA_V2",
         10: "P_CONTROL_HARD_RESET_CLIENT_V3", 11: "P_CONTROL_WKC_V1"}

def kind(first):
    return "%s kid %d" % (NAMES.get(first >> 3, "opcode %d" % (first >> 3)), first & 7)

def is_data(first):
    return first >> 3 in (6, 9)

# --- a tiny pcap reader: Ethernet / IPv4 / UDP or TCP --------------------------------------
raw = open(pcap, "rb").read()
magic = raw[:4]
endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
linktype = struct.unpack(endian + "I", raw[20:24])[0]
assert linktype == 1, "expected Ethernet link type, got %d" % linktype
segments = []  # (direction, tcp_seq or None, payload)
off = 24
while off + 16 <= len(raw):
    _, _, incl, _ = struct.unpack(endian + "IIII", raw[off:off + 16])
    frame = raw[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack(">H", ip[2:4])[0]
    proto, src = ip[9], ip[12:16]
    l4 = ip[ihl:total]
    direction = "c2s" if src == cli else "s2c"
    if proto == 17:
        segments.append((direction, None, l4[8:]))
    elif proto == 6:
        seq = struct.unpack(">I", l4[4:8])[0]
        payload = l4[(l4[12] >> 4) * 4:]
        if payload:
            segments.append((direction, seq, payload))

lines = []
data_seen = {"c2s": 0, "s2c": 0}
if transport == "udp":
    for direction, _, payload in segments:
        if not payload:
            continue
        if is_data(payload[0]):
            if data_seen[direction] >= data_max:
                continue
            data_seen[direction] += 1
        lines.append((direction, payload, kind(payload[0])))
else:
    # TCP: reassemble each direction's stream (dropping retransmitted bytes), remembering the
    # segment boundaries; deframe it; keep the segments up to the end of the data_max-th data
    # packet (the last kept segment is cut at that frame boundary).
    streams = {"c2s": [], "s2c": []}  # per direction: list of segment payloads
    next_seq = {}
    for direction, seq, payload in segments:
        if direction in next_seq:
            skip = (next_seq[direction] - seq) & 0xFFFFFFFF
            if skip < 0x80000000:
                if skip >= len(payload):
                    continue
                payload = payload[skip:]
        next_seq[direction] = (seq + len(payload)) & 0xFFFFFFFF
        streams[direction].append(payload)
    cut, frames = {}, {}
    for direction, segs in streams.items():
        stream = b"".join(segs)
        pos, data, found = 0, 0, []
        while pos + 3 <= len(stream):
            length = struct.unpack(">H", stream[pos:pos + 2])[0]
            if pos + 2 + length > len(stream):
                break
            first = stream[pos + 2]
            found.append((pos, kind(first)))
            pos += 2 + length
            if is_data(first):
                data += 1
                if data == data_max:
                    break
        cut[direction] = pos  # always a frame boundary
        frames[direction] = found
    # walk the segments again in capture order
    seen = {"c2s": 0, "s2c": 0}
    index = {"c2s": 0, "s2c": 0}
    for direction, _, _ in segments:
        segs = streams[direction]
        if index[direction] >= len(segs):
            continue
        payload = segs[index[direction]]
        index[direction] += 1
        start = seen[direction]
        seen[direction] += len(payload)
        if start >= cut[direction]:
            continue
        payload = payload[:cut[direction] - start]
        end = start + len(payload)
        names = [what for at, what in frames[direction] if start <= at < end]
        lines.append((direction, payload, ", ".join(names) if names else "continuation"))

with open(out, "w") as f:
    f.write("# ovpn-wire fixture %s: packets of the real OpenVPN %s, captured by testdata/wire/capture.sh\n" % (name, version))
    f.write("# (server in netns ow-srv, client in ow-cli, EC P-256 certificates, data-ciphers AES-256-GCM).\n")
    f.write("# c2s = client to server, s2c = server to client; one %s per line.\n"
            % ("UDP datagram" if transport == "udp" else "TCP segment payload (a stream: 2-byte length framing)"))
    f.write("# protection: %s\n" % protection)
    f.write("# transport: %s\n" % transport)
    for direction, payload, what in lines:
        f.write("%s %s  # %s\n" % (direction, payload.hex(), what))
print("wrote %s: %d lines" % (out, len(lines)))
PY
}

for case in $CASES; do
    echo "== $case"
    capture_case "$case"
done
