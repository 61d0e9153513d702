#!/usr/bin/env bash
# The test command: formatting, lints, then every test of the workspace, against
# the real PostgreSQL and Redis the tests expect.
#
#   scripts/test.sh                 run everything
#   scripts/test.sh some_test_name  extra arguments go to `cargo test`
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) and Redis on
# 127.0.0.1:6379; `.ci/run` starts both when they are down, then runs this script.
# Override the locations with SWITCHYARD_TEST_DATABASE_URL / SWITCHYARD_TEST_REDIS_URL.
set -euo pipefail

cd "$(dirname "$0")/.."

export SWITCHYARD_TEST_DATABASE_URL="${SWITCHYARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export SWITCHYARD_TEST_REDIS_URL="${SWITCHYARD_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf '\ntest.sh: FAILED: %s\n' "$*" >&2; exit 1; }

step "checking tools"
command -v cargo >/dev/null || fail "cargo is not on PATH (install Rust 1.95 with rustup)"
cargo fmt --version >/dev/null 2>&1 || fail "rustfmt is missing: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || fail "clippy is missing: rustup component add clippy"

step "checking PostgreSQL at ${SWITCHYARD_TEST_DATABASE_URL}"
if command -v psql >/dev/null; then
    psql "${SWITCHYARD_TEST_DATABASE_URL}" -qtAc 'SELECT 1' >/dev/null 2>&1 ||
        fail "PostgreSQL does not answer at ${SWITCHYARD_TEST_DATABASE_URL} (start it, or run .ci/run, which starts it)"
else
    echo "psql not installed; not checking (the PostgreSQL tests will fail if it is down)" >&2
fi

step "checking Redis at ${SWITCHYARD_TEST_REDIS_URL}"
if command -v redis-cli >/dev/null; then
    [ "$(redis-cli -u "${SWITCHYARD_TEST_REDIS_URL}" ping 2>/dev/null)" = "PONG" ] ||
        fail "Redis does not answer at ${SWITCHYARD_TEST_REDIS_URL} (start it, or run .ci/run, which starts it)"
else
    echo "redis-cli not installed; not checking (the Redis tests will fail if it is down)" >&2
fi

step "cargo fmt --all -- --check"
cargo fmt --all -- --check || fail "formatting differs; run: cargo fmt --all"

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings || fail "clippy found problems (see above)"

step "cargo test --workspace --all-features"
cargo test --workspace --all-features "$@" || fail "tests failed (see above; set TEST_LOG=1 for server logs)"

step "all checks passed"
