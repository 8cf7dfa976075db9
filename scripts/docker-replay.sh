#!/usr/bin/env bash
# Replays the Dockerfile without a Docker engine, in a temp directory:
#   build stage   copy package.json, package-lock.json, scripts/, public/ (without htmx.min.js,
#                 as .dockerignore leaves it out); npm ci --omit=dev; copy tsconfig.json, db/,
#                 views/, src/
#   runtime       DATA_DIR in the temp dir, NODE_ENV=production, run as an unprivileged user
#                 when started as root (the image runs as `node`), the image's CMD and
#                 HEALTHCHECK commands, then SIGTERM as `docker stop` sends it.
# Then checks: a clean exit (0), DATA_DIR/latchkey.db, DATA_DIR/secret.key with mode 600.
#
# The lists below are kept in sync with the Dockerfile by hand: when a COPY, RUN, CMD or
# HEALTHCHECK changes there, change it here too.
#
# Prints `docker-replay: ok` and exits 0, or `docker-replay: FAILED: <why>` and exits 1.
# KEEP_TMP=1 keeps the temp directory for a look afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-docker-replay.XXXXXX")"
chmod 755 "$TMP"
APP="$TMP/app"   # the image's /app
DATA="$TMP/data" # the image's /data volume
LOG="$TMP/server.log"
SERVER_PID=""

# The Dockerfile's COPY lists (build stage), in its order.
COPY_BEFORE_INSTALL=(package.json package-lock.json scripts public)
COPY_AFTER_INSTALL=(tsconfig.json db views src)
# The Dockerfile's CMD and HEALTHCHECK.
CMD=(node --enable-source-maps --max-semi-space-size=8 --max-old-space-size=128 dist/server.js)
HEALTHCHECK=(node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))")

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP_TMP:-}" == 1 ]]; then echo "docker-replay: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

fail() {
  echo "docker-replay: FAILED: $*"
  if [[ -s "$LOG" ]]; then
    echo "--- server output ---"
    tail -n 40 "$LOG"
  fi
  exit 1
}

step() { echo "docker-replay: $*"; }

# --- build stage ------------------------------------------------------------------------------
mkdir -p "$APP" "$DATA"
step "copying the build context into $APP"
for f in "${COPY_BEFORE_INSTALL[@]}"; do
  [[ -e "$ROOT/$f" ]] || fail "missing $f in the build context"
  cp -R "$ROOT/$f" "$APP/"
done
rm -f "$APP/public/htmx.min.js" # .dockerignore leaves it out: the postinstall must recreate it

step "npm ci --omit=dev (compiles better-sqlite3 when no prebuilt binary can be fetched)"
(cd "$APP" && npm ci --omit=dev --no-audit --no-fund) >"$TMP/npm-ci.log" 2>&1 || {
  tail -n 40 "$TMP/npm-ci.log"
  fail "npm ci --omit=dev failed (log above)"
}
[[ -s "$APP/public/htmx.min.js" ]] || fail "public/htmx.min.js is missing after npm ci (postinstall did not copy it)"
for dev in vitest typescript playwright-core drizzle-kit; do
  [[ ! -e "$APP/node_modules/$dev" ]] || fail "dev dependency $dev was installed by npm ci --omit=dev"
done
[[ -e "$APP/node_modules/tsx" ]] || fail "tsx is not installed by npm ci --omit=dev; it must be a dependency, not a devDependency"

for f in "${COPY_AFTER_INSTALL[@]}"; do
  [[ -e "$ROOT/$f" ]] || fail "missing $f in the build context"
  cp -R "$ROOT/$f" "$APP/"
done
step "node scripts/build.mjs (the Dockerfile's build step)"
(cd "$APP" && node scripts/build.mjs) || fail "the build failed"
[[ -s "$APP/dist/server.js" ]] || fail "dist/server.js is missing after the build"

# --- runtime stage ----------------------------------------------------------------------------
PORT="$(node -e "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")"
RUN_AS=()
if [[ "$(id -u)" == 0 ]] && command -v setpriv >/dev/null; then
  # The image runs as the unprivileged `node` user with only /data writable: do the same with
  # nobody, so a write outside DATA_DIR or a root-only file fails here as it would there.
  chown 65534:65534 "$DATA"
  RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
chmod 700 "$DATA"

step "starting ${CMD[*]} on port $PORT"
# A clean environment, as in the image (NODE_ENV, DATA_DIR and PORT come from its ENV lines);
# HOST is the loopback here, where the image listens on all interfaces.
(cd "$APP" && exec env -i PATH="$PATH" HOME="$TMP" TMPDIR="${TMPDIR:-/tmp}" NODE_ENV=production DATA_DIR="$DATA" PORT="$PORT" HOST=127.0.0.1 \
  "${RUN_AS[@]}" "${CMD[@]}") >"$LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 30))
until env -i PATH="$PATH" PORT="$PORT" "${HEALTHCHECK[@]}"; do
  kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID" && code=0 || code=$?; SERVER_PID=""; fail "the server exited with code $code before /healthz answered"; }
  ((SECONDS < deadline)) || fail "GET /healthz did not answer 200 within 30 s"
  sleep 0.2
done
step "healthcheck passed"

kill -TERM "$SERVER_PID"
code=0
for _ in $(seq 1 150); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.2
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server was still running 30 s after SIGTERM"
wait "$SERVER_PID" || code=$?
SERVER_PID=""
((code == 0)) || fail "the server exited with code $code after SIGTERM (want 0)"

[[ -s "$DATA/latchkey.db" ]] || fail "DATA_DIR/latchkey.db was not created"
[[ -f "$DATA/secret.key" ]] || fail "DATA_DIR/secret.key was not created"
mode="$(stat -c %a "$DATA/secret.key")"
[[ "$mode" == 600 ]] || fail "DATA_DIR/secret.key has mode $mode (want 600)"
extra="$(find "$DATA" -mindepth 1 -maxdepth 1 ! -name latchkey.db ! -name secret.key -printf '%f ')"
[[ -z "$extra" ]] || step "note: DATA_DIR also holds: $extra"

echo "docker-replay: ok"
