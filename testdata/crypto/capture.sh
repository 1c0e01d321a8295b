#!/usr/bin/env bash
# Regenerates the real-OpenVPN vectors in this directory (run as root: tcpdump on lo).
#
# For each case, a real OpenVPN 2.6 server and client run point to point on 127.0.0.1 with
# `--dev null` (no TUN needed) and `--ping 1`, so data packets carry OpenVPN's 16-byte ping
# payload; tcpdump records the UDP payloads. TLS cases run both peers under iv_proto_shim.so,
# which clears the TLS_KEY_EXPORT (and DYN_TLS_CRYPT, and for some cases DATA_V2) bits of
# IV_PROTO so the data keys come from the legacy key-method-2 PRF, as with a RouterOS peer;
# `--verb 7` makes OpenVPN log the PRF inputs and the derived keys (ssl.c key_source2_print,
# crypto.c key2_print). Static-key cases use `--secret`.
#
# Output per case: CASE.packets (one "c2s HEX" / "s2c HEX" line per datagram, in capture
# order) and CASE.keys (key=value: configuration and, for TLS cases, what OpenVPN logged).
# static.key is the one key file all cases use for tls-auth, tls-crypt and --secret.
# The tests (ovpn-crypto/tests/openvpn_captures.rs) read only these committed files.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
command -v openvpn tcpdump openssl cc python3 >/dev/null
work=$(mktemp -d /tmp/ovpn-crypto-capture.XXXXXX)
trap 'rm -rf "$work"' EXIT

cc -shared -fPIC -o "$work/shim.so" iv_proto_shim.c -ldl
[ -f static.key ] || openvpn --genkey secret static.key

# Throw-away PKI (not committed: the tests never see the TLS layer).
(
    cd "$work"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
        -out ca.crt -days 30 -subj /CN=capture-ca 2>/dev/null
    for n in server client; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key \
            -out $n.csr -subj /CN=$n 2>/dev/null
        if [ $n = server ]; then eku=serverAuth; else eku=clientAuth; fi
        printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature,keyAgreement\n' $eku > $n.ext
        openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt \
            -days 30 -extfile $n.ext 2>/dev/null
    done
)

port=51300
version=$(openvpn --version | head -1)

# run_case NAME MODE CIPHER AUTH CONTROL CLEAR_BITS SERVER_DIR CLIENT_DIR
#   MODE: tls | static; CONTROL: tls-auth | tls-crypt | none; CLEAR_BITS: IV_PROTO bits to clear
#   SERVER_DIR/CLIENT_DIR: key direction for tls-auth / --secret ("" = bidirectional)
run_case() {
    local name=$1 mode=$2 cipher=$3 auth=$4 control=$5 clear=$6 sdir=$7 cdir=$8
    local sport=$port cport=$((port + 1))
    port=$((port + 2))
    local d="$work/$name"
    mkdir -p "$d"
    local common=(--dev null --proto udp --ping 1 --verb 7 --auth "$auth" --cipher "$cipher")
    local legacy=()
    if [ "$cipher" = BF-CBC ]; then legacy=(--providers legacy default); fi
    local srv=() cli=()
    if [ "$mode" = tls ]; then
        common+=(--data-ciphers "$cipher" --tls-version-max 1.2)
        srv=(--tls-server --dh none --ca "$work/ca.crt" --cert "$work/server.crt" --key "$work/server.key")
        cli=(--tls-client --remote-cert-tls server --ca "$work/ca.crt" --cert "$work/client.crt" --key "$work/client.key")
        case $control in
            tls-auth) srv+=(--tls-auth "$here/static.key" $sdir); cli+=(--tls-auth "$here/static.key" $cdir) ;;
            tls-crypt) srv+=(--tls-crypt "$here/static.key"); cli+=(--tls-crypt "$here/static.key") ;;
        esac
    else
        srv=(--secret "$here/static.key" $sdir)
        cli=(--secret "$here/static.key" $cdir)
    fi
    tcpdump -i lo -U -n -w "$d/cap.pcap" "udp and (port $sport or port $cport)" 2>"$d/tcpdump.log" &
    local tpid=$!
    sleep 1
    OVPN_SHIM_CLEAR_BITS=$clear LD_PRELOAD="$work/shim.so" timeout 7 openvpn "${common[@]}" "${legacy[@]}" "${srv[@]}" \
        --local 127.0.0.1 --lport $sport --remote 127.0.0.1 --rport $cport >"$d/server.log" 2>&1 &
    local spid=$!
    OVPN_SHIM_CLEAR_BITS=$clear LD_PRELOAD="$work/shim.so" timeout 7 openvpn "${common[@]}" "${legacy[@]}" "${cli[@]}" \
        --local 127.0.0.1 --lport $cport --remote 127.0.0.1 --rport $sport >"$d/client.log" 2>&1 &
    local cpid=$!
    wait $spid || true
    wait $cpid || true
    sleep 1
    kill $tpid
    wait $tpid || true
    grep -q "Initialization Sequence Completed" "$d/server.log" || { echo "$name: server did not come up"; tail -20 "$d/server.log"; exit 1; }
    grep -q "Initialization Sequence Completed" "$d/client.log" || { echo "$name: client did not come up"; tail -20 "$d/client.log"; exit 1; }

    python3 - "$d/cap.pcap" "$cport" >"$here/$name.packets" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
cport = int(sys.argv[2])
magic = struct.unpack('<I', data[:4])[0]
endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
linktype = struct.unpack(endian + 'I', data[20:24])[0]
off = 24
seen = set()
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + 'IIII', data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    l2 = {1: 14, 113: 16, 276: 20}[linktype]
    ip = frame[l2:]
    ihl = (ip[0] & 0x0f) * 4
    udp = ip[ihl:]
    sport, dport = struct.unpack('>HH', udp[:4])
    payload = udp[8:]
    if payload in seen:   # a datagram seen twice on lo is one datagram
        continue
    seen.add(payload)
    print(('c2s' if sport == cport else 's2c') + ' ' + payload.hex())
PY

    {
        echo "# $name: made by capture.sh with: $version"
        echo "mode=$mode"
        echo "cipher=$cipher"
        echo "auth=$auth"
        echo "control=$control"
        echo "server_key_direction=$sdir"
        echo "client_key_direction=$cdir"
        if [ "$mode" = tls ]; then
            sed -n 's/.*peer info: IV_PROTO=\([0-9]*\).*/peer_iv_proto=\1/p' "$d/server.log" | head -1
            python3 - "$d/server.log" <<'PY'
import re, sys
names = {
    'Client pre_master': 'client_pre_master', 'Client random1': 'client_random1',
    'Client random2': 'client_random2', 'Server random1': 'server_random1',
    'Server random2': 'server_random2',
}
out = {}
for line in open(sys.argv[1], errors='replace'):
    for k, v in names.items():
        m = re.search(k + r': ([0-9a-f ]+)$', line.strip())
        if m and v not in out:
            out[v] = m.group(1).replace(' ', '')
    m = re.search(r'Master (Encrypt|Decrypt) \((cipher|hmac), [^)]*\): ?([0-9a-f ]*)$', line.strip())
    if m:
        k = ('key0_' if m.group(1) == 'Encrypt' else 'key1_') + m.group(2)
        out.setdefault(k, m.group(3).replace(' ', ''))
for k in ['client_pre_master', 'client_random1', 'client_random2', 'server_random1',
          'server_random2', 'key0_cipher', 'key0_hmac', 'key1_cipher', 'key1_hmac']:
    print(f'{k}={out.get(k, "")}')
PY
        fi
    } >"$here/$name.keys"
    echo "$name: $(wc -l <"$here/$name.packets") datagrams"
}

# TLS mode, keys from the PRF. Clear bits: 520 = TLS_KEY_EXPORT|DYN_TLS_CRYPT (DATA_V2 kept),
# 522 = also DATA_V2 (P_DATA_V1 packets).
run_case tls-aes256gcm-tlsauth-sha1     tls AES-256-GCM       SHA1   tls-auth  520 0 1
run_case tls-aes128gcm-tlscrypt-v1      tls AES-128-GCM       SHA1   tls-crypt 522 "" ""
run_case tls-aes192gcm-tlsauth-sha256   tls AES-192-GCM       SHA256 tls-auth  520 0 1
run_case tls-chacha20poly1305-tlscrypt  tls CHACHA20-POLY1305 SHA1   tls-crypt 520 "" ""
run_case tls-aes256cbc-sha256-tlsauth   tls AES-256-CBC       SHA256 tls-auth  520 0 1
run_case tls-aes128cbc-sha1-v1          tls AES-128-CBC       SHA1   none      522 "" ""
run_case tls-aes192cbc-sha512-tlsauth   tls AES-192-CBC       SHA512 tls-auth  522 1 0
run_case tls-bfcbc-md5-tlsauth          tls BF-CBC            MD5    tls-auth  520 "" ""
run_case tls-aes256cbc-sha384-tlscrypt  tls AES-256-CBC       SHA384 tls-crypt 520 "" ""

# (cipher none is only captured in static mode: OpenVPN 2.6.3 crashes logging a none key at
# --verb 7, crypto.c key_print.)
# Static-key (--secret) mode: no TLS, no opcode, long-form packet ids.
run_case static-aes256cbc-sha256        static AES-256-CBC    SHA256 none      0 0 1
run_case static-aes128cbc-sha1-bidir    static AES-128-CBC    SHA1   none      0 "" ""
run_case static-bfcbc-md5               static BF-CBC         MD5    none      0 1 0
run_case static-none-sha512             static none           SHA512 none      0 0 1
