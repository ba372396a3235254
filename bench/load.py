#!/usr/bin/env python3
"""Load harness for mxshop: seeds a catalogue of N goods, starts `mxshop` (release) on 127.0.0.1
against SQLite or PostgreSQL, drives it with wrk, and prints one table per catalogue size:
req/s, ratio to the baseline route (/health/, same middleware, no database), p50/p99 latency,
errors, and the server's peak RSS.

Usage: python3 bench/load.py [--goods 1000,10000,100000] [--db sqlite|postgres]
                             [--duration 10] [--connections 64] [--threads 2]
Needs: wrk (Debian package), a release build (built if missing), psql for --db postgres.
Everything stays on 127.0.0.1; every run is bounded by --duration.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "mxshop"
LUA = Path(__file__).resolve().parent / "lua"
PASSWORD = "bench-pw-2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


class Server:
    def __init__(self, data_dir, database_url, port):
        self.base = f"http://127.0.0.1:{port}"
        self.args = ["--data-dir", str(data_dir), "--database-url", database_url]
        self.port = port
        self.proc = None

    def cli(self, *args, stdin=None):
        env = dict(os.environ, RUST_LOG="warn")
        return run([str(BINARY), *args, *self.args], input=stdin, env=env)

    def start(self):
        # Request logging is on in production too; at warn level it stays out of the figures'
        # way, like a shop shipping logs at info to a collector would not do per request.
        # The shopper holds 100 unpaid orders and the checkout mix places thousands: lift the
        # per-user caps on unpaid orders and units that a real shop keeps.
        env = dict(
            os.environ,
            RUST_LOG="warn",
            MXSHOP_ALIPAY__JOB_INTERVAL_SECS="3600",
            MXSHOP_MAX_UNPAID_ORDERS_PER_USER="1000000",
            MXSHOP_MAX_UNPAID_UNITS_PER_USER="1000000",
        )
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--listen", f"127.0.0.1:{self.port}", *self.args],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                http(self.base, "GET", "/health/")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("mxshop did not start")

    def peak_rss_mb(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wrk(url, args, duration, connections, threads, script=None, env=None):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
    done = run(cmd + [url], env=dict(os.environ, **(env or {})))
    if ".lua:" in done.stderr:
        # wrk carries on with plain GETs when its script fails to load: refuse such a figure.
        raise SystemExit(f"wrk script error: {done.stderr.strip()}")
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))

    def latency(pct):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    server_errors = re.search(r"5xx responses: (\d+)", out)
    result = {"rps": rps, "p50": latency(50), "p99": latency(99), "errors": errors, "requests": total}
    if server_errors:
        # In the checkout mix a 400 is normal (a buyer's cart ordered by a concurrent request).
        result["errors"] = int(server_errors.group(1))
        result["client_errors"] = errors - result["errors"]
    return result


def signed_notifications(orders, key_file, app_id, path):
    """Writes one signed TRADE_SUCCESS notification per order (form bodies, one per line), signed
    like Alipay with the built-in sandbox's key (openssl does the RSA2 signature)."""
    with open(path, "w") as out:
        for i, order in enumerate(orders):
            amount = f"{order['order_mount']:.2f}"
            fields = {
                "app_id": app_id, "auth_app_id": app_id, "charset": "utf-8", "version": "1.0",
                "notify_type": "trade_status_sync", "notify_id": f"bench{i:06d}",
                "notify_time": "2026-11-26 10:00:00", "gmt_create": "2026-11-26 09:59:00",
                "gmt_payment": "2026-11-26 09:59:30", "out_trade_no": order["order_sn"],
                "trade_no": f"2026112622001{i:011d}", "trade_status": "TRADE_SUCCESS",
                "total_amount": amount, "receipt_amount": amount, "buyer_pay_amount": amount,
                "seller_id": "2088102177000000", "subject": "bench",
            }
            canonical = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v)
            signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key_file)],
                                       input=canonical.encode(), capture_output=True, check=True).stdout
            fields["sign_type"] = "RSA2"
            fields["sign"] = base64.b64encode(signature).decode()
            out.write(urllib.parse.urlencode(fields) + "\n")


def prepare_database(kind, size):
    if kind == "sqlite":
        return None
    name = f"mxshop_bench_{size}"
    admin = os.environ.get("MXSHOP_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    run(["psql", admin, "-qc", f"CREATE DATABASE {name}"])
    return admin.rsplit("/", 1)[0] + "/" + name


def count_orders(kind, data_dir, database_url):
    if kind == "sqlite":
        with sqlite3.connect(data_dir / "mxshop.db") as db:
            return db.execute("SELECT COUNT(*) FROM order_info").fetchone()[0]
    return int(run(["psql", database_url, "-Atc", "SELECT COUNT(*) FROM order_info"]).stdout.strip())


def min_stock(kind, data_dir, database_url):
    sql = "SELECT MIN(goods_num) FROM goods"
    if kind == "sqlite":
        with sqlite3.connect(data_dir / "mxshop.db") as db:
            return db.execute(sql).fetchone()[0]
    return int(run(["psql", database_url, "-Atc", sql]).stdout.strip())


def bench_size(size, args):
    data_dir = Path(tempfile.mkdtemp(prefix=f"mxshop-bench-{size}-"))
    database_url = prepare_database(args.db, size) or f"sqlite://{data_dir}/mxshop.db?mode=rwc"
    server = Server(data_dir, database_url, free_port())
    server.cli("seed", "--goods", str(size))
    buyers = 64
    for i in range(buyers):
        server.cli("user", "create", f"bench{i}", stdin=PASSWORD + "\n")
    server.start()
    base = server.base
    tokens = [http(base, "POST", "/login/", {"username": f"bench{i}", "password": PASSWORD})["token"]
              for i in range(buyers)]
    top = http(base, "GET", "/categories/")[0]["id"]
    goods_ids = [g["id"] for g in http(base, "GET", "/goods/?page_size=100")["results"]]
    # A shopper with 100 orders, for the orders and cart scenarios.
    for n in range(100):
        http(base, "POST", "/shopcarts/", {"goods": goods_ids[n % len(goods_ids)], "nums": 1}, tokens[0])
        http(base, "POST", "/orders/", {"post_script": "bench", "singer_mobile": "13800138000"}, tokens[0])
    for gid in goods_ids[:5]:
        http(base, "POST", "/shopcarts/", {"goods": gid, "nums": 1}, tokens[0])
    some_goods = goods_ids[len(goods_ids) // 2]
    unpaid = http(base, "GET", "/orders/", token=tokens[0])
    bodies = data_dir / "notifications.txt"
    signed_notifications(unpaid, data_dir / "alipay" / "sandbox_alipay_private_key.pem", "2021000000000001", bodies)

    auth = {"WRK_TOKEN": tokens[0]}
    scenarios = [
        ("baseline /health/", "/health/", None, None),
        ("/goods/ page 1", "/goods/", None, None),
        ("/goods/?page_size=100", "/goods/?page_size=100", None, None),
        ("/goods/?search=精选", "/goods/?search=%E7%B2%BE%E9%80%89", None, None),
        ("/goods/?top_category&ordering", f"/goods/?top_category={top}&ordering=-shop_price", None, None),
        ("/goods/{id}/", f"/goods/{some_goods}/", None, None),
        ("/categories/", "/categories/", None, None),
        # Every goods of every tab: skipped above 10k goods (its size grows with the catalogue).
        *([("/indexgoods/", "/indexgoods/", None, None)] if size <= 10000 else []),
        # The built-in storefront: whole pages whose catalogue part comes from the catalogue cache.
        ("storefront home /shop/", "/shop/", None, None),
        ("storefront listing /shop/category/{top}/", f"/shop/category/{top}/?ordering=-sold_num", None, None),
        ("storefront detail /shop/goods/{id}/", f"/shop/goods/{some_goods}/", None, None),
        ("/shopcarts/ (auth)", "/shopcarts/", LUA / "auth_get.lua", auth),
        ("/orders/ (100 orders)", "/orders/", LUA / "auth_get.lua", auth),
    ]
    results = []
    for name, path, script, env in scenarios:
        r = wrk(base + path, args, args.duration, args.connections, args.threads, script, env)
        results.append((name, r))

    # Checkout mix: 64 buyers, each request either adds to the cart or orders it.
    orders_before = count_orders(args.db, data_dir, database_url)
    env = {"WRK_TOKENS": ",".join(tokens), "WRK_GOODS": ",".join(str(g) for g in goods_ids)}
    started = time.time()
    r = wrk(base + "/", args, args.duration, args.connections, args.threads, LUA / "checkout.lua", env)
    elapsed = time.time() - started
    orders = count_orders(args.db, data_dir, database_url) - orders_before
    r["orders_per_s"] = orders / elapsed
    results.append(("checkout mix (cart→order)", r))
    notify = wrk(base + "/alipay/return/", args, args.duration, args.connections, args.threads, LUA / "notify.lua",
                 {"WRK_BODIES": str(bodies)})
    results.append(("Alipay notifications (verify + apply)", notify))
    paid = sum(1 for o in http(base, "GET", "/orders/", token=tokens[0]) if o["pay_status"] == "TRADE_SUCCESS")
    if paid != len(unpaid):
        raise SystemExit(f"notifications paid {paid} of {len(unpaid)} orders")
    stock_floor = min_stock(args.db, data_dir, database_url)
    rss = server.peak_rss_mb()
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    return results, rss, stock_floor


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--goods", default="1000,10000,100000")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "--release", "-p", "mxshop"], cwd=ROOT, check=True)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "unknown CPU")
    print(f"mxshop load run: {args.db}, {args.connections} connections, {args.threads} wrk threads, "
          f"{args.duration}s per scenario; {os.cpu_count()} cores ({cpu}); server and wrk share the machine")
    for size in [int(s) for s in args.goods.split(",")]:
        results, rss, stock_floor = bench_size(size, args)
        baseline = results[0][1]["rps"]
        print(f"\n{size} goods, {args.db}: peak RSS {rss:.1f} MB, lowest stock after checkout {stock_floor}")
        print("| scenario | req/s | vs baseline | p50 ms | p99 ms | errors (5xx, socket) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in results:
            extra = ""
            if "orders_per_s" in r:
                split = f", {r['client_errors']} 4xx" if "client_errors" in r else ", errors = all non-2xx"
                extra = f" ({r['orders_per_s']:.0f} orders/s{split})"
            print(f"| {name}{extra} | {r['rps']:.0f} | {r['rps'] / baseline:.0%} | {r['p50']:.2f} | "
                  f"{r['p99']:.2f} | {r['errors']} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
