#!/usr/bin/env bash
# Interoperability of the `alipay-sandbox` binary with independent Alipay integrations, all on 127.0.0.1:
#   (a) python-alipay-sdk 3.4.0: its page-pay URL opens the cashier; Pay → return verified by the SDK;
#       notification (refused once, re-delivered with the same notify_id) verified by `verify`; query,
#       refund (partial, replay, over-refund, full), fastpay.refund.query, close, cancel — every answer
#       verified by the SDK itself; refund notifications verified; controls (wrong keys) fail.
#   (b) npm alipay-sdk 4.14.0: the same round with pageExecute (GET URL and POST form), exec(...,
#       {validateSign: true}) and checkNotifySignV2.
#   (c) browser: Debian's Chromium driven by npm playwright-core opens a page-pay URL, clicks Pay, lands on
#       return_url; the merchant receives a notification that verifies; a POST-form order is closed with Close.
#   (d) the binary: refuses an 8-hours-off (UTC-as-Beijing) timestamp, serves its public key, keeps state
#       across a kill -9 (a pending notification is delivered by the restarted process).
# Installs the peers itself (PyPI, npm, Debian apt for Chromium) and fails loudly if it cannot.
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero on any failure.
# Usage (from anywhere): bash crates/alipay-sandbox/interop/run.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CRATE="$(cd "$HERE/.." && pwd)"
ROOT="$(cd "$CRATE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$TARGET/alipay-sandbox-interop"
mkdir -p "$WORK"
TMP="$(mktemp -d "$WORK/run.XXXXXX")"
SANDBOX_PID=""
cleanup() {
  if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null || true; wait "$SANDBOX_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

PASSED=0
FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
die() { echo "FAIL: $*" >&2; echo "$PASSED passed, $((FAILED + 1)) failed"; exit 1; }

for tool in python3 node npm openssl cargo curl; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' is not installed"
done

# --- peers -------------------------------------------------------------------------------------
VENV="$WORK/venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || die "cannot create a Python venv in $VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "python-alipay-sdk==3.4.0" \
  || die "cannot pip-install python-alipay-sdk==3.4.0"
"$VENV/bin/python" -c 'import alipay, importlib.metadata as m; assert m.version("python-alipay-sdk") == "3.4.0"' \
  || die "python-alipay-sdk 3.4.0 is not importable"
echo "peer: python-alipay-sdk $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("python-alipay-sdk"))')"

NODE_DIR="$WORK/node"
mkdir -p "$NODE_DIR"
[ -f "$NODE_DIR/package.json" ] || echo '{"name":"alipay-sandbox-interop","private":true}' > "$NODE_DIR/package.json"
(cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --no-save alipay-sdk@4.14.0 playwright-core) \
  || die "cannot npm-install alipay-sdk@4.14.0 playwright-core"
NODE_VER="$(node -p "require('$NODE_DIR/node_modules/alipay-sdk/package.json').version")"
[ "$NODE_VER" = "4.14.0" ] || die "alipay-sdk version is $NODE_VER, expected 4.14.0"
echo "peer: npm alipay-sdk $NODE_VER, playwright-core $(node -p "require('$NODE_DIR/node_modules/playwright-core/package.json').version")"
cp "$HERE/peer.js" "$NODE_DIR/peer.js"

# shellcheck source=/dev/null
source "$ROOT/.ci/lib/apt.sh"
ensure_chromium
echo "peer: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"

# The SDKs stamp requests with the machine's local time; Alipay wants Beijing time, so run them in it.
PY() { TZ=Asia/Shanghai "$VENV/bin/python" "$HERE/peer.py" "$@"; }
NODE() { (cd "$NODE_DIR" && TZ=Asia/Shanghai node peer.js "$@"); }

# --- the sandbox binary --------------------------------------------------------------------------
(cd "$ROOT" && cargo build --quiet -p alipay-sandbox --bin alipay-sandbox) || die "cannot build alipay-sandbox"
BIN="$TARGET/debug/alipay-sandbox"
[ -x "$BIN" ] || die "missing $BIN"

# --- fresh keys (openssl): the sandbox's Alipay pair, one pair per merchant app, and a stranger's pair --
newkey() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/$1_key.pem" 2>/dev/null || die "openssl genpkey"
  openssl pkey -in "$TMP/$1_key.pem" -pubout -out "$TMP/$1_pub.pem" 2>/dev/null || die "openssl pkey"
  grep -v -- '-----' "$TMP/$1_key.pem" | tr -d '\r\n' > "$TMP/$1_key.b64"
  grep -v -- '-----' "$TMP/$1_pub.pem" | tr -d '\r\n' > "$TMP/$1_pub.b64"
}
for k in ali py node web stranger; do newkey "$k"; done
PY_APP=2021000000000001
NODE_APP=2021000000000002
WEB_APP=2021000000000003
STATE="$TMP/sandbox.sqlite"

start_sandbox() {
  : > "$TMP/sandbox.out"
  "$BIN" --listen 127.0.0.1:0 --state "$STATE" --alipay-private-key "$TMP/ali_key.pem" --time-scale 0.001 \
    --notify-on payment,refund,close \
    --app "$PY_APP=$TMP/py_pub.pem" --app "$NODE_APP=$(cat "$TMP/node_pub.b64")" --app "$WEB_APP=$TMP/web_pub.pem" \
    > "$TMP/sandbox.out" 2> "$TMP/sandbox.log" &
  SANDBOX_PID=$!
  for _ in $(seq 1 100); do
    GATEWAY="$(sed -n 's/^gateway: //p' "$TMP/sandbox.out")"
    [ -n "$GATEWAY" ] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$TMP/sandbox.log" >&2; die "the sandbox exited at start-up"; }
    sleep 0.1
  done
  [ -n "$GATEWAY" ] || die "the sandbox did not report its address"
  BASE="${GATEWAY%/gateway.do}"
}
start_sandbox
echo "sandbox: $GATEWAY"

# --- (d) binary basics -----------------------------------------------------------------------------
served="$(curl -fsS "$BASE/alipay_public_key.pem" | grep -v -- '-----' | tr -d '\r\n' || true)"
[ "$served" = "$(cat "$TMP/ali_pub.b64")" ] && pass "(d) the sandbox serves its Alipay public key (equals openssl's)" \
  || fail "(d) served public key differs"
# python-alipay-sdk run in the machine's own zone (UTC here) stamps UTC as if it were Beijing time: refused.
utc_answer="$(TZ=UTC "$VENV/bin/python" - "$GATEWAY" "$PY_APP" "$TMP/py_key.pem" "$TMP/ali_pub.pem" <<'PYEOF'
import sys, json
from alipay import AliPay
a = AliPay(appid=sys.argv[2], app_notify_url=None, app_private_key_string=open(sys.argv[3]).read(),
           alipay_public_key_string=open(sys.argv[4]).read(), sign_type="RSA2")
a._gateway = sys.argv[1]
print(json.dumps(a.api_alipay_trade_query(out_trade_no="X")))
PYEOF
)" || true
if [ "$(date -u +%H)" = "$(TZ=Asia/Shanghai date +%H)" ]; then
  pass "(d) (skipped: this machine's zone is already UTC+8)"
elif echo "$utc_answer" | grep -q '"isv.invalid-timestamp"'; then
  pass "(d) a request stamped in UTC instead of Beijing time is refused: isv.invalid-timestamp"
else
  fail "(d) UTC timestamp not refused: $utc_answer"
fi

# --- (a) python-alipay-sdk -----------------------------------------------------------------------
set +e
PY round "$GATEWAY" "$PY_APP" "$TMP/py_key.pem" "$TMP/ali_pub.pem" "$TMP/stranger_pub.pem" "$TMP/stranger_key.pem" > "$TMP/py.out" 2>&1
py_rc=$?
# --- (b) npm alipay-sdk ----------------------------------------------------------------------------
NODE round "$GATEWAY" "$NODE_APP" "$TMP/node_key.b64" "$TMP/ali_pub.b64" "$TMP/stranger_pub.b64" "$TMP/stranger_key.b64" > "$TMP/node.out" 2>&1
node_rc=$?
# --- (c) browser -----------------------------------------------------------------------------------
NODE browser "$GATEWAY" "$WEB_APP" "$TMP/web_key.b64" "$TMP/ali_pub.b64" > "$TMP/web.out" 2>&1
web_rc=$?
set -e
for who in py node web; do
  out="$TMP/$who.out"
  while IFS= read -r line; do
    case "$line" in
      PASS:*) pass "${line#PASS: }" ;;
      FAIL:*) fail "${line#FAIL: }" ;;
      *) echo "  $line" ;;
    esac
  done < "$out"
done
[ "$py_rc" -eq 0 ] || [ "$FAILED" -gt 0 ] || fail "(a) python peer exited with $py_rc"
[ "$node_rc" -eq 0 ] || [ "$FAILED" -gt 0 ] || fail "(b) node peer exited with $node_rc"
[ "$web_rc" -eq 0 ] || [ "$FAILED" -gt 0 ] || fail "(c) browser peer exited with $web_rc"
grep -c '^PASS: python' "$TMP/py.out" >/dev/null || fail "(a) the python peer reported nothing"
grep -c '^PASS: npm' "$TMP/node.out" >/dev/null || fail "(b) the node peer reported nothing"
grep -c '^PASS: browser' "$TMP/web.out" >/dev/null || fail "(c) the browser peer reported nothing"

# --- (d) durability: kill -9 between a payment and its delivery, restart, delivery happens ----------
MERCHANT_OUT="$TMP/merchant.jsonl"
"$VENV/bin/python" - "$MERCHANT_OUT" > "$TMP/merchant.port" <<'PYEOF' &
import sys, json, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
out = sys.argv[1]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with open(out, "a") as f:
            f.write(json.dumps(dict(urllib.parse.parse_qsl(body))) + "\n")
        self.send_response(200); self.send_header("Content-Length", "7"); self.end_headers(); self.wfile.write(b"success")
s = HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PYEOF
MERCHANT_PID=$!
trap 'kill $MERCHANT_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 50); do [ -s "$TMP/merchant.port" ] && break; sleep 0.1; done
MPORT="$(head -n1 "$TMP/merchant.port")"
ORDER="KILL-$(date +%s%N)"
URL="$(TZ=Asia/Shanghai "$VENV/bin/python" - "$GATEWAY" "$PY_APP" "$TMP/py_key.pem" "$TMP/ali_pub.pem" "$ORDER" "$MPORT" <<'PYEOF'
import sys
from alipay import AliPay
a = AliPay(appid=sys.argv[2], app_notify_url=None, app_private_key_string=open(sys.argv[3]).read(),
           alipay_public_key_string=open(sys.argv[4]).read(), sign_type="RSA2")
print(sys.argv[1] + "?" + a.api_alipay_trade_page_pay(subject="kill", out_trade_no=sys.argv[5], total_amount="7.77",
      notify_url="http://127.0.0.1:%s/notify" % sys.argv[6]))
PYEOF
)"
# Drop every delivery attempt for now so the notification is pending when the process dies.
curl -fsS -X POST -H 'content-type: application/json' -d '{"count":1000}' "$BASE/test/drop-deliveries" >/dev/null \
  || fail "(d) test/drop-deliveries"
curl -fsS "$URL" >/dev/null || fail "(d) cashier for $ORDER"
curl -fsS -X POST -H 'content-type: application/json' -d "{\"app_id\":\"$PY_APP\",\"out_trade_no\":\"$ORDER\"}" "$BASE/test/pay" >/dev/null \
  || fail "(d) test/pay $ORDER"
sleep 0.5
kill -9 "$SANDBOX_PID"; wait "$SANDBOX_PID" 2>/dev/null || true; SANDBOX_PID=""
[ ! -s "$MERCHANT_OUT" ] || fail "(d) something was delivered before the kill"
start_sandbox
curl -fsS -X POST -H 'content-type: application/json' -d '{"count":0}' "$BASE/test/drop-deliveries" >/dev/null \
  || fail "(d) test/drop-deliveries after the restart"
# The next scheduled retry (scaled) happens in the new process.
for _ in $(seq 1 200); do grep -q "\"$ORDER\"" "$MERCHANT_OUT" 2>/dev/null && break; sleep 0.1; done
if grep -q "\"$ORDER\"" "$MERCHANT_OUT" 2>/dev/null; then
  line="$(grep "\"$ORDER\"" "$MERCHANT_OUT" | head -n1)"
  ok="$(printf '%s' "$line" | "$VENV/bin/python" -c '
import sys, json
from alipay import AliPay
d = json.loads(sys.stdin.read()); sign = d.pop("sign")
a = AliPay(appid="x", app_notify_url=None, app_private_key_string=open(sys.argv[1]).read(),
           alipay_public_key_string=open(sys.argv[2]).read(), sign_type="RSA2")
print(a.verify(d, sign))' "$TMP/py_key.pem" "$TMP/ali_pub.pem")"
  [ "$ok" = "True" ] && pass "(d) after kill -9 and restart, the pending notification is delivered and verifies (python verify)" \
    || fail "(d) the delivered notification does not verify: $ok"
else
  fail "(d) no delivery after the restart"
fi
attempts="$(curl -fsS "$BASE/inspect.json" | "$VENV/bin/python" -c '
import sys, json
s = json.load(sys.stdin)
n = [n for n in s["notifications"] if n["out_trade_no"] == sys.argv[1]][0]
print(",".join("dropped" if a["dropped"] else a["reply"] for a in n["attempts"]))' "$ORDER" || true)"
case "$attempts" in
  dropped*,success) pass "(d) the attempt history survived the restart ($attempts)" ;;
  *) fail "(d) unexpected attempt history: $attempts" ;;
esac
kill "$MERCHANT_PID" 2>/dev/null || true

echo "alipay-sandbox interop: $PASSED passed, $FAILED failed"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
