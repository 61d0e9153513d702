#!/usr/bin/env bash
# Runs Switchyard locally on SQLite (./data) at 127.0.0.1:3000, with a development
# Platform API token unless one is set. Extra arguments go to `switchyard serve`.
set -euo pipefail

cd "$(dirname "$0")/.."

export SWITCHYARD_PLATFORM_TOKEN="${SWITCHYARD_PLATFORM_TOKEN:-dev-platform-token}"
exec cargo run --release -- serve "$@"
