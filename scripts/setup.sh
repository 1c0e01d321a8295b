#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, quietly and only when missing.
# Idempotent; called by .ci/run and by scripts/test.sh. Needs root for apt-get (skipped otherwise,
# and the tests that need the missing tools say so and are skipped).
set -euo pipefail

need=()
command -v openvpn >/dev/null 2>&1 || need+=(openvpn)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
[ -x /usr/share/easy-rsa/easyrsa ] || need+=(easy-rsa)
command -v python3 >/dev/null 2>&1 || need+=(python3)

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${need[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; }
    else
        echo "setup: missing ${need[*]} (not root or no apt-get); tests needing them will be skipped" >&2
    fi
fi
