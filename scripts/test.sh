#!/usr/bin/env bash
# The project's test command (README.md). Sets up what it needs on a fresh machine, then runs every
# test of the workspace, and checks that the cargo-fuzz targets still build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# Tests that need root, network namespaces or the real tools (openssl, openvpn, easy-rsa) are
# #[ignore]d, so a plain `cargo test` reports them as ignored; here, as root after setup.sh, they
# run too. Without root they stay reported as ignored.
# (The criterion benches take no test-harness flags: they run once each, as a test, apart.)
if [ "$(id -u)" = 0 ]; then
    cargo test --workspace --lib --bins --tests --examples --locked -- --include-ignored
else
    echo "test.sh: not root: the root-only tests are reported as ignored" >&2
    cargo test --workspace --lib --bins --tests --examples --locked
fi
cargo test --workspace --benches --locked
cargo test --workspace --doc --locked
# The fuzz targets are a separate cargo project (fuzz/); building them on stable, without the
# sanitizer, proves they compile. Running them is `cargo fuzz run TARGET` (README.md).
cargo build --manifest-path fuzz/Cargo.toml --locked --quiet
# End-to-end: our server and client against the real OpenVPN 2.6 in network namespaces (root
# only; skipped otherwise).
cargo build -p ovpn-examples --bins --locked --quiet
chmod +x e2e/e2e.sh
e2e/e2e.sh
echo "test.sh: all tests passed"
