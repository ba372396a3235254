#!/usr/bin/env bash
# The built-in storefront in a real browser: Debian's Chromium driven by npm playwright-core, against
# the real `mxshop` binary on a fresh data directory (SQLite, demo catalogue, log SMS provider, the
# built-in Alipay sandbox). A desktop visitor and a 375 px phone visitor each browse, register with
# the SMS code read from the server log, fill the cart, check out with a new address, pay in the
# sandbox cashier (page pay on the desktop, wap pay on the phone), land on the paid order, and
# cancel a second, unpaid order. Screenshots of every step go to target/storefront-screenshots/.
# Installs playwright-core (npm) and chromium (apt) if missing and fails loudly if it cannot.
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero on any failure.
# Usage (from anywhere): bash crates/shop/tests/storefront-ui/run.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$TARGET/storefront-e2e"
SHOTS="$TARGET/storefront-screenshots"
mkdir -p "$WORK"
rm -rf "$SHOTS" && mkdir -p "$SHOTS"
TMP="$(mktemp -d "$WORK/run.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

for tool in node npm cargo python3; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' is not installed"
done

NODE_DIR="$WORK/node"
mkdir -p "$NODE_DIR"
[ -f "$NODE_DIR/package.json" ] || echo '{"name":"mxshop-storefront-e2e","private":true}' > "$NODE_DIR/package.json"
if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --no-save playwright-core) \
    || die "cannot npm-install playwright-core"
fi
echo "peer: playwright-core $(node -p "require('$NODE_DIR/node_modules/playwright-core/package.json').version")"

# shellcheck source=/dev/null
source "$ROOT/.ci/lib/apt.sh"
ensure_chromium
echo "peer: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
# The pages are Chinese: without a CJK font the screenshots show empty boxes.
fc-list :lang=zh 2>/dev/null | grep -q . || apt_install fonts-wqy-zenhei
fc-list :lang=zh 2>/dev/null | grep -q . || die "no Chinese font is installed"

(cd "$ROOT" && cargo build --quiet -p mxshop --bin mxshop) || die "cannot build mxshop"
BIN="$TARGET/debug/mxshop"
[ -x "$BIN" ] || die "missing $BIN"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LOG="$TMP/server.log"
# No front end directory: `/` is the storefront. Plain logs, so the SMS code can be read.
NO_COLOR=1 "$BIN" --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" --frontend-dir "$TMP/no-frontend" > "$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q "serving on" "$LOG" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; die "mxshop exited at start-up"; }
  sleep 0.2
done
grep -q "serving on" "$LOG" || { cat "$LOG" >&2; die "mxshop did not start"; }
echo "mxshop: http://127.0.0.1:$PORT/ (log $LOG)"

cp "$HERE/storefront.js" "$NODE_DIR/storefront.js"
set +e
(cd "$NODE_DIR" && node storefront.js "http://127.0.0.1:$PORT" "$LOG" "$SHOTS")
rc=$?
set -e
ls "$SHOTS" | sed 's/^/  screenshot: /'
[ "$rc" -eq 0 ] || { tail -n 40 "$LOG" >&2; exit "$rc"; }
