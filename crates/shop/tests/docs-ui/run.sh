#!/usr/bin/env bash
# The API document and the docs UI as an operator's build serves them:
#   (a) the binary built as users build it (no test features) carries no fail points;
#   (b) /api/openapi.json passes openapi-spec-validator (an independent OpenAPI 3.1 validator);
#   (c) Debian's Chromium, driven by npm playwright-core with every request off loopback refused,
#       renders /docs/ (Swagger UI from the binary) with every operation listed; a screenshot is
#       kept in target/ci-artifacts/docs-ui.png.
# Installs what it needs (PyPI, npm, Debian's chromium) and fails loudly if it cannot.
# Usage (from anywhere): bash crates/shop/tests/docs-ui/run.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$TARGET/docs-ui"
ARTIFACTS="$TARGET/ci-artifacts"
mkdir -p "$WORK" "$ARTIFACTS"
DATA="$(mktemp -d "$WORK/run.XXXXXX")"
SHOP_PID=""
cleanup() {
  if [ -n "$SHOP_PID" ]; then kill "$SHOP_PID" 2>/dev/null || true; wait "$SHOP_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; exit 1; }

for tool in python3 node npm cargo curl strings; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' is not installed"
done

# (a) The binary as `cargo build`/`cargo run` make it: fail points are a test-only feature.
(cd "$ROOT" && cargo build --quiet --locked -p mxshop --bin mxshop) || die "cannot build mxshop"
BIN="$TARGET/debug/mxshop"
if strings "$BIN" | grep -q "fail point"; then die "the mxshop binary contains fail points"; fi
echo "PASS: the binary built without test features contains no fail points"

# (b) The document, validated by an independent implementation.
VENV="$WORK/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "cannot create a Python venv"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "openapi-spec-validator==0.7.1" \
  || die "cannot pip-install openapi-spec-validator"

PORT_FILE="$DATA/port"
"$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA/data" >"$DATA/out.log" 2>&1 &
SHOP_PID=$!
BASE=""
for _ in $(seq 1 100); do
  BASE="$(sed -n 's/^mxshop is serving on \(http:\/\/[^/]*\)\/$/\1/p' "$DATA/out.log" | head -n1)"
  [ -n "$BASE" ] && break
  kill -0 "$SHOP_PID" 2>/dev/null || die "mxshop did not start: $(cat "$DATA/out.log")"
  sleep 0.2
done
[ -n "$BASE" ] || die "mxshop did not print its address: $(cat "$DATA/out.log")"
curl -fsS "$BASE/api/openapi.json" -o "$ARTIFACTS/openapi.json" || die "cannot fetch /api/openapi.json"
"$VENV/bin/python" - "$ARTIFACTS/openapi.json" <<'PY' || die "the API document is not valid OpenAPI 3.1"
import json, sys
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
document = json.load(open(sys.argv[1]))
assert document["openapi"] == "3.1.0", document["openapi"]
validate(document, cls=OpenAPIV31SpecValidator)
operations = sum(1 for item in document["paths"].values() for method in item if method in ("get", "post", "put", "patch", "delete"))
print(f"PASS: openapi-spec-validator accepts the document ({len(document['paths'])} paths, {operations} operations)")
PY

# (c) The docs UI in Chromium, offline.
NODE_DIR="$WORK/node"
mkdir -p "$NODE_DIR"
[ -f "$NODE_DIR/package.json" ] || echo '{"name":"mxshop-docs-ui","private":true,"type":"module"}' > "$NODE_DIR/package.json"
(cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --no-save playwright-core) || die "cannot npm-install playwright-core"
# shellcheck source=/dev/null
source "$ROOT/.ci/lib/apt.sh"
ensure_chromium
cp "$HERE/docs.mjs" "$NODE_DIR/docs.mjs"
(cd "$NODE_DIR" && node docs.mjs "$BASE" "$ARTIFACTS/docs-ui.png") || die "the docs UI check failed"
echo "docs UI check passed; screenshot in $ARTIFACTS/docs-ui.png"
