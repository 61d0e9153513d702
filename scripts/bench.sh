#!/usr/bin/env bash
# Measures Switchyard's WhatsApp webhook intake against a hello-world ceiling.
#
#   1. builds release binaries;
#   2. runs `switchyard-bench hello` (plain hyper, no work) and measures it with
#      `switchyard-bench http`: the most any HTTP server gets on this machine;
#   3. recreates the PostgreSQL database switchyard_bench, starts `switchyard serve`
#      on it, provisions an account, an agent and a WhatsApp Cloud inbox through the
#      HTTP API, and measures `switchyard-bench webhooks` against it;
#   4. counts the stored messages, prints both figures and stops both servers.
#
# Knobs (environment): BENCH_CONCURRENCY (64), BENCH_HTTP_SECONDS (10),
# BENCH_TOTAL (20000 webhooks), BENCH_CONTACTS (1000 customers), BENCH_WARMUP (2000),
# BENCH_THREADS (generator worker threads; default: all CPUs), BENCH_PG
# (postgres://postgres@127.0.0.1:5432), BENCH_REDIS_URL (unset: no Redis),
# RUST_LOG (warn). Needs PostgreSQL with trust auth for user postgres, curl and python3.
set -euo pipefail

cd "$(dirname "$0")/.."

CONCURRENCY="${BENCH_CONCURRENCY:-64}"
HTTP_SECONDS="${BENCH_HTTP_SECONDS:-10}"
TOTAL="${BENCH_TOTAL:-20000}"
CONTACTS="${BENCH_CONTACTS:-1000}"
WARMUP="${BENCH_WARMUP:-2000}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
DATABASE=switchyard_bench
PLATFORM_TOKEN="bench-platform-token"
PHONE="+15550001111"
PHONE_NUMBER_ID="100000000000001"
APP_SECRET="bench-app-secret"

BENCH=target/release/switchyard-bench
SWITCHYARD=target/release/switchyard
WORK="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")"
PIDS=()

log() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf '\nbench.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# Stops only the servers this script started and removes the scratch directory,
# keeping Switchyard's log as target/bench-switchyard.log when the run failed.
cleanup() {
    local status=$? pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ] && [ -s "$WORK/switchyard.log" ]; then
        cp "$WORK/switchyard.log" target/bench-switchyard.log
        echo "bench.sh: switchyard's log is in target/bench-switchyard.log" >&2
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

generator_flags=()
if [ -n "${BENCH_THREADS:-}" ]; then
    generator_flags+=(--threads "$BENCH_THREADS")
fi

# Prints field $1 of the JSON object on stdin (jq when installed, else python3).
json_field() {
    if command -v jq >/dev/null; then
        jq -er --arg key "$1" '.[$key]'
    else
        python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
    fi
}

# POSTs JSON body $3 to path $2 with token $1; prints the response, fails loudly on non-2xx.
post() {
    local token="$1" path="$2" body="$3" response
    if ! response="$(curl -sS --fail-with-body -X POST "${BASE}${path}" \
        -H 'content-type: application/json' -H "api_access_token: ${token}" -d "$body")"; then
        fail "POST ${path} was refused: ${response}"
    fi
    printf '%s' "$response"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for URL $1 to answer 2xx; fails early if server pid $3 died.
wait_http() {
    local url="$1" deadline=$((SECONDS + $2)) pid="$3"
    until curl -sf -o /dev/null "$url"; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

command -v python3 >/dev/null || fail "python3 is required"
command -v curl >/dev/null || fail "curl is required"
command -v psql >/dev/null || fail "psql is required (to recreate the bench database)"

log "building release binaries"
cargo build --release -p switchyard -p switchyard-bench

# --- ceiling: hello-world hyper ----------------------------------------------------------
log "ceiling: hyper hello-world, ${HTTP_SECONDS} s at concurrency ${CONCURRENCY}"
"$BENCH" hello --listen 127.0.0.1:0 >"$WORK/hello.out" &
PIDS+=($!)
hello_pid=$!
deadline=$((SECONDS + 10))
until grep -q '^listening on ' "$WORK/hello.out" 2>/dev/null; do
    kill -0 "$hello_pid" 2>/dev/null || fail "the hello server exited"
    [ "$SECONDS" -lt "$deadline" ] || fail "the hello server did not start"
    sleep 0.1
done
hello_addr="$(sed -n 's/^listening on //p' "$WORK/hello.out")"

"$BENCH" "${generator_flags[@]}" http --url "http://${hello_addr}/" \
    --duration "$HTTP_SECONDS" --concurrency "$CONCURRENCY" --warmup "$WARMUP" |
    tee "$WORK/ceiling.txt" || fail "the ceiling run had errors"
kill "$hello_pid"
wait "$hello_pid" 2>/dev/null || true

# --- Switchyard on PostgreSQL -------------------------------------------------------------
log "recreating database ${DATABASE}"
PGOPTIONS="-c client_min_messages=warning" psql "${PG}/postgres" -qX -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)" \
    -c "CREATE DATABASE ${DATABASE}" || fail "cannot recreate ${DATABASE} at ${PG}"

port="$(free_port)"
BASE="http://127.0.0.1:${port}"
log "starting switchyard serve at ${BASE}"
(
    export SWITCHYARD_LISTEN="127.0.0.1:${port}"
    export SWITCHYARD_DATABASE_URL="${PG}/${DATABASE}"
    export SWITCHYARD_DATA_DIR="${WORK}/data"
    export SWITCHYARD_PLATFORM_TOKEN="$PLATFORM_TOKEN"
    # Nothing in this run replies, but if anything did it must never reach Meta.
    export SWITCHYARD_WHATSAPP_API_BASE="http://127.0.0.1:9"
    export RUST_LOG="${RUST_LOG:-warn}"
    if [ -n "${BENCH_REDIS_URL:-}" ]; then
        export SWITCHYARD_REDIS_URL="$BENCH_REDIS_URL"
    fi
    exec "$SWITCHYARD" serve
) >"$WORK/switchyard.log" 2>&1 &
PIDS+=($!)
server_pid=$!
wait_http "${BASE}/ready" 60 "$server_pid" || fail "switchyard did not become ready"

log "provisioning an account, an agent and a WhatsApp Cloud inbox"
account_id="$(post "$PLATFORM_TOKEN" /platform/api/v1/accounts '{"name":"Bench"}' | json_field id)"
user="$(post "$PLATFORM_TOKEN" /platform/api/v1/users \
    '{"name":"Bench Agent","email":"agent@bench.example","password":"Bench!passw0rd"}')"
user_id="$(json_field id <<<"$user")"
user_token="$(json_field access_token <<<"$user")"
post "$PLATFORM_TOKEN" "/platform/api/v1/accounts/${account_id}/account_users" \
    "{\"user_id\":${user_id},\"role\":\"administrator\"}" >/dev/null
inbox='{"name":"Bench WhatsApp","channel":{"type":"whatsapp","phone_number":"'"$PHONE"'",
 "provider":"whatsapp_cloud","provider_config":{"api_key":"bench-api-key",
 "phone_number_id":"'"$PHONE_NUMBER_ID"'","business_account_id":"200000000000001",
 "webhook_verify_token":"bench-verify-token","app_secret":"'"$APP_SECRET"'"}}}'
inbox_id="$(post "$user_token" "/api/v1/accounts/${account_id}/inboxes" "$inbox" | json_field id)"
post "$user_token" "/api/v1/accounts/${account_id}/inbox_members" \
    "{\"inbox_id\":${inbox_id},\"user_ids\":[${user_id}]}" >/dev/null
echo "account ${account_id}, agent ${user_id}, inbox ${inbox_id}" >&2

log "switchyard: ${TOTAL} signed webhooks from ${CONTACTS} customers at concurrency ${CONCURRENCY}"
webhooks_ok=1
BENCH_APP_SECRET="$APP_SECRET" "$BENCH" "${generator_flags[@]}" webhooks --target "$BASE" \
    --phone "$PHONE" --phone-number-id "$PHONE_NUMBER_ID" --contacts "$CONTACTS" \
    --total "$TOTAL" --concurrency "$CONCURRENCY" --warmup "$WARMUP" |
    tee "$WORK/switchyard.txt" || webhooks_ok=0

# Every acknowledged webhook must be durable: count what reached the database.
expected=$((WARMUP + TOTAL))
stored="$(psql "${PG}/${DATABASE}" -qtAX -c \
    "SELECT count(*) FROM messages WHERE message_type = 0 AND source_id LIKE 'wamid.bench.%'" \
    2>/dev/null || echo "?")"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true

# --- raw PostgreSQL: one durable INSERT per message ---------------------------------------
# What a store that commits each message on its own gets from the same server: pgbench runs
# one single-row INSERT transaction (a message-sized row) per request, at the same
# concurrency, for as long as the ceiling run.
log "raw PostgreSQL: single-row INSERT transactions, ${HTTP_SECONDS} s at concurrency ${CONCURRENCY}"
psql "${PG}/${DATABASE}" -qX -v ON_ERROR_STOP=1 -c \
    "CREATE TABLE bench_rows (id BIGSERIAL PRIMARY KEY, conversation_id BIGINT NOT NULL,
     source_id TEXT NOT NULL, content TEXT NOT NULL, created_at BIGINT NOT NULL)" ||
    fail "cannot create the pgbench table"
cat >"$WORK/insert.sql" <<'SQL'
\set conversation random(1, 1000)
INSERT INTO bench_rows (conversation_id, source_id, content, created_at)
VALUES (:conversation, 'wamid.raw.' || :client_id || '.' || random(), 'Hello from the benchmark', 1700000000000000);
SQL
pgbench -n -f "$WORK/insert.sql" -c "$CONCURRENCY" -j 2 -T "$HTTP_SECONDS" \
    "${PG}/${DATABASE}" >"$WORK/pgbench.txt" 2>&1 || fail "pgbench failed: $(cat "$WORK/pgbench.txt")"

log "results"
echo "ceiling (hyper hello-world, GET):"
sed 's/^/    /' "$WORK/ceiling.txt"
echo "switchyard (WhatsApp Cloud webhooks, PostgreSQL):"
sed 's/^/    /' "$WORK/switchyard.txt"
echo "stored incoming messages: ${stored} (webhooks sent, warm-up included: ${expected})"
echo "raw PostgreSQL (pgbench, one single-row INSERT per transaction):"
grep -E '^(tps|latency average|number of transactions actually processed)' "$WORK/pgbench.txt" |
    sed 's/^/    /'

[ "$webhooks_ok" = 1 ] || fail "the webhook run had errors"
[ "$stored" = "$expected" ] || fail "stored ${stored} messages, expected ${expected}"
