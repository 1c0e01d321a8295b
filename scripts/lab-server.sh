#!/usr/bin/env bash
# The shared lab's SERVER_CMD for our server: reads the case's variables (run-pair.sh exports
# them: PROTO CIPHER AUTH TLS_MODE TOPOLOGY USERPASS PORT ...), writes the RouterOS script that
# configures ovpn-server the same way as the lab's server.conf, and runs it in the case's work
# directory. A measurement tool only: the project's own tests are e2e/e2e.sh.
#
#   cd ../shared/lab && SERVER_CMD='exec /path/to/scripts/lab-server.sh' \
#       SERVER_READY_RE='listening on' ./matrix.sh
#
# BIN (default: this checkout's target/debug) holds ovpn-server.
set -euo pipefail
BIN="${BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/debug}"

lower() { tr 'A-Z' 'a-z' <<<"$1"; }
case "$CIPHER" in
    AES-256-GCM) c=aes256-gcm ;; AES-128-GCM) c=aes128-gcm ;; AES-256-CBC) c=aes256-cbc ;;
    AES-128-CBC) c=aes128-cbc ;; BF-CBC) c=blowfish128 ;; *) c=$(lower "$CIPHER") ;;
esac
tls=""
case "${TLS_MODE:-none}" in
    tls-auth) tls="control-channel-protection=tls-auth tls-key-file=pki/ta.key key-direction=0" ;;
    tls-crypt) tls="control-channel-protection=tls-crypt tls-key-file=pki/ta.key" ;;
esac
{
    echo "/certificate import file-name=pki/ca.crt passphrase=\"\" name=ca"
    echo "/certificate import file-name=pki/server.crt passphrase=\"\" name=server"
    echo "/certificate import file-name=pki/server.key passphrase=\"\""
    echo "/ip pool add name=pool ranges=10.8.0.2-10.8.0.254"
    echo "/ppp profile add name=p local-address=10.8.0.1 remote-address=pool"
    # The lab's accepted user/password pairs (users.txt, one "user pass" a line).
    while read -r u p; do
        [ -n "$u" ] && echo "/ppp secret add name=$u password=$p profile=p service=ovpn"
    done <users.txt
    userpass=yes
    [ "${USERPASS:-0}" = 1 ] || userpass=no
    echo "/interface ovpn-server server set enabled=yes port=$PORT protocol=$PROTO mode=ip \\"
    echo "    certificate=server require-client-certificate=yes require-user-password=$userpass \\"
    echo "    cipher=$c auth=$(lower "$AUTH") topology=${TOPOLOGY:-subnet} keepalive-timeout=60 \\"
    echo "    default-profile=p $tls"
} >server.rsc
exec "$BIN/ovpn-server" --state-dir state run server.rsc
