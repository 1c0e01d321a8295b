#!/usr/bin/env bash
# The project's test command (README.md). Sets up what it needs on a fresh machine, then runs every
# test of the workspace, and checks that the cargo-fuzz targets still build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo test --workspace --all-targets --locked
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
