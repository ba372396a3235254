"""python-alipay-sdk 3.4.0 against the sandbox (run by interop/run.sh).

  peer.py round <gateway> <app_id> <app_private.pem> <alipay_public.pem> <wrong_public.pem> <wrong_private.pem>

Runs a merchant on 127.0.0.1 (notify_url and return_url, verifying with the SDK's own `verify`)
and a full round through the SDK: page pay URL -> cashier -> Pay -> return -> notification (the
first delivery is answered "fail", so it must come again with the same notify_id) -> query ->
partial refund, replay, refund query, full refund (+ refund notifications) -> close.
Prints PASS:/FAIL: lines; exits 1 on any failure.
"""
import json
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alipay import AliPay
from alipay.exceptions import AliPayValidationError

FAILED = 0


def check(ok, what, detail=""):
    global FAILED
    if ok:
        print("PASS: python-alipay-sdk: " + what, flush=True)
    else:
        FAILED += 1
        print("FAIL: python-alipay-sdk: %s %s" % (what, detail), flush=True)


class Merchant:
    def __init__(self, sdk):
        self.sdk = sdk
        self.notifications = []  # (fields, verified, answer)
        self.returns = []  # (fields, verified)
        self.lock = threading.Lock()
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, body):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
                data = dict(fields)
                sign = data.pop("sign", "")
                verified = merchant.sdk.verify(data, sign)
                with merchant.lock:
                    first = not any(n[0]["notify_id"] == fields.get("notify_id") for n in merchant.notifications)
                    # The first delivery of the payment notification is refused to exercise retries.
                    answer = "success" if verified and not (first and fields.get("trade_status") == "TRADE_SUCCESS"
                                                            and "refund_fee" not in fields) else "fail"
                    merchant.notifications.append((fields, verified, answer))
                self.reply(answer)

            def do_GET(self):
                query = urllib.parse.urlsplit(self.path).query
                fields = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
                data = dict(fields)
                sign = data.pop("sign", "")
                verified = merchant.sdk.verify(data, sign)
                with merchant.lock:
                    merchant.returns.append((fields, verified))
                self.reply("return verified" if verified else "return NOT verified")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                hits = [n for n in self.notifications if pred(n[0])]
            if hits:
                return hits
            time.sleep(0.05)
        return []


def sdk_for(gateway, app_id, key_file, alipay_pub_file):
    a = AliPay(
        appid=app_id,
        app_notify_url=None,
        app_private_key_string=open(key_file).read(),
        alipay_public_key_string=open(alipay_pub_file).read(),
        sign_type="RSA2",
    )
    a._gateway = gateway
    return a


def http(url, data=None):
    req = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, r.geturl(), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, url, e.read().decode("utf-8")


def main():
    _, cmd, gateway, app_id, key_file, alipay_pub, wrong_pub, wrong_key = sys.argv
    assert cmd == "round"
    sdk = sdk_for(gateway, app_id, key_file, alipay_pub)
    merchant = Merchant(sdk)
    base = gateway.rsplit("/", 1)[0]
    order = "PY-%d" % int(time.time() * 1000)

    # Page pay: the SDK's URL is accepted and shows the cashier.
    query = sdk.api_alipay_trade_page_pay(
        subject='语雀 & = + % } " 空格 /', out_trade_no=order, total_amount="88.80",
        return_url=merchant.base + "/return", notify_url=merchant.base + "/notify",
        passback_params="x%3D1", timeout_express="30m")
    status, _, page = http(gateway + "?" + query)
    check(status == 200 and order in page and "88.80" in page, "page-pay URL accepted, cashier shows the order",
          "status=%s" % status)
    q = sdk.api_alipay_trade_query(out_trade_no=order)
    check(q.get("trade_status") == "WAIT_BUYER_PAY", "query (signature verified by the SDK): WAIT_BUYER_PAY", q)

    # Pay: the "browser" follows the redirect to return_url, where the SDK verifies the return.
    m = re.search(r'name="trade_no" value="([^"]+)"', page)
    trade_no = m.group(1) if m else ""
    status, landed, body = http(base + "/cashier/pay", urllib.parse.urlencode({"trade_no": trade_no}).encode())
    check(landed.startswith(merchant.base + "/return?") and body == "return verified",
          "Pay redirects to return_url; return verified by SDK verify", "%s %s" % (landed, body))

    pay = []
    end = time.time() + 20
    while time.time() < end:
        with merchant.lock:
            pay = [n for n in merchant.notifications if n[0].get("out_trade_no") == order and "refund_fee" not in n[0]]
        if len(pay) >= 2:
            break
        time.sleep(0.05)
    check(len(pay) == 2 and all(n[1] for n in pay), "payment notification verified by SDK verify (2 deliveries)",
          [(n[1], n[2]) for n in pay])
    check(len(pay) == 2 and pay[0][0]["notify_id"] == pay[1][0]["notify_id"] and [n[2] for n in pay] == ["fail", "success"],
          "answered fail then success: re-delivered with the same notify_id", [n[2] for n in pay])
    if pay:
        f = pay[0][0]
        check(f.get("trade_status") == "TRADE_SUCCESS" and f.get("total_amount") == "88.80" and f.get("app_id") == app_id
              and f.get("passback_params") == "x%3D1" and all(v != "" for v in f.values()),
              "notification fields (TRADE_SUCCESS, amount, app_id, passback_params, no empty field)", f)
        tampered = dict(f)
        tampered["total_amount"] = "0.01"
        sign = tampered.pop("sign")
        check(not sdk.verify(tampered, sign), "control: a tampered notification is rejected by SDK verify")

    q = sdk.api_alipay_trade_query(out_trade_no=order)
    check(q.get("trade_status") == "TRADE_SUCCESS" and q.get("trade_no") == trade_no, "query: TRADE_SUCCESS", q)

    # Refunds.
    r = sdk.api_alipay_trade_refund(refund_amount="10.00", out_trade_no=order, out_request_no=order + "-R1")
    check(r.get("code") == "10000" and r.get("fund_change") == "Y" and r.get("refund_fee") == "10.00",
          "partial refund (verified): fund_change=Y refund_fee=10.00", r)
    r = sdk.api_alipay_trade_refund(refund_amount="10.00", out_trade_no=order, out_request_no=order + "-R1")
    check(r.get("code") == "10000" and r.get("fund_change") == "N", "refund replay (same out_request_no): fund_change=N", r)
    r = sdk.api_alipay_trade_refund(refund_amount="100.00", out_trade_no=order, out_request_no=order + "-R2")
    check(r.get("code") == "40004" and r.get("sub_code") == "ACQ.REASON_TRADE_REFUND_FEE_ERR", "over-refund refused", r)
    rq = sdk.api_alipay_trade_fastpay_refund_query(order + "-R1", out_trade_no=order)
    check(rq.get("code") == "10000" and rq.get("refund_amount") == "10.00", "fastpay.refund.query (verified)", rq)
    r = sdk.api_alipay_trade_refund(refund_amount="78.80", out_trade_no=order, out_request_no=order + "-R2")
    check(r.get("code") == "10000" and r.get("refund_fee") == "88.80", "full refund: refund_fee=88.80", r)
    partial = merchant.wait(lambda f: f.get("out_biz_no") == order + "-R1")
    full = merchant.wait(lambda f: f.get("out_biz_no") == order + "-R2")
    check(bool(partial) and partial[0][1] and partial[0][0].get("trade_status") == "TRADE_SUCCESS"
          and partial[0][0].get("refund_fee") == "10.00" and bool(partial[0][0].get("gmt_refund")),
          "partial-refund notification verified: TRADE_SUCCESS + refund_fee/gmt_refund/out_biz_no",
          partial[0][0] if partial else "none")
    check(bool(full) and full[0][1] and full[0][0].get("trade_status") == "TRADE_CLOSED"
          and full[0][0].get("refund_fee") == "88.80", "full-refund notification verified: TRADE_CLOSED + refund_fee",
          full[0][0] if full else "none")
    q = sdk.api_alipay_trade_query(out_trade_no=order)
    check(q.get("trade_status") == "TRADE_CLOSED", "query after the full refund: TRADE_CLOSED", q)

    # Close.
    order2 = order + "-C"
    r = sdk.api_alipay_trade_close(out_trade_no=order2)
    check(r.get("code") == "40004" and r.get("sub_code") == "ACQ.TRADE_NOT_EXIST",
          "close before the cashier was opened: ACQ.TRADE_NOT_EXIST", r)
    status, _, _ = http(gateway + "?" + sdk.api_alipay_trade_page_pay(subject="c", out_trade_no=order2, total_amount="1.00"))
    r = sdk.api_alipay_trade_close(out_trade_no=order2)
    check(status == 200 and r.get("code") == "10000" and r.get("out_trade_no") == order2, "close (verified)", r)
    r = sdk.api_alipay_trade_cancel(out_trade_no=order2)
    check(r.get("code") == "10000" and r.get("action") == "close", "cancel of a closed trade (verified)", r)

    # Controls: the SDK really verifies (a wrong Alipay key fails), and the gateway really checks ours.
    wrong = sdk_for(gateway, app_id, key_file, wrong_pub)
    try:
        wrong.api_alipay_trade_query(out_trade_no=order)
        check(False, "control: a response checked with the wrong Alipay key is rejected by the SDK")
    except AliPayValidationError:
        check(True, "control: a response checked with the wrong Alipay key is rejected by the SDK")
    forged = sdk_for(gateway, app_id, wrong_key, alipay_pub)
    r = forged.api_alipay_trade_query(out_trade_no=order)  # the refusal is signed, so the SDK returns it
    check(r.get("code") == "40002" and r.get("sub_code") == "isv.invalid-signature",
          "control: a request signed with the wrong app key is refused (40002 isv.invalid-signature)", r)
    merchant.server.shutdown()
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
