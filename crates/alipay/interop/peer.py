"""python-alipay-sdk 3.4.0 side of interop/run.sh.

  peer.py sign-string   <private.pem> <public.pem>   < text   -> signature of the exact stdin text
  peer.py verify-notify <alipay_public.pem>          < json   -> True/False (AliPay.verify)
  peer.py page-pay      <private.pem> <public.pem>           -> signed page-pay query string
"""
import json
import sys

from alipay import AliPay


def client(private_pem, public_pem):
    return AliPay(
        appid="2021000117600000",
        app_notify_url=None,
        app_private_key_string=open(private_pem).read(),
        alipay_public_key_string=open(public_pem).read(),
        sign_type="RSA2",
    )


def main():
    cmd = sys.argv[1]
    if cmd == "sign-string":
        text = sys.stdin.buffer.read().decode("utf-8")
        print(client(sys.argv[2], sys.argv[3])._sign(text))
    elif cmd == "verify-notify":
        data = json.loads(sys.stdin.read())
        # The public key given is Alipay's; the private key is irrelevant for verify but required.
        ali = AliPay(
            appid="x",
            app_notify_url=None,
            app_private_key_string=open(sys.argv[3]).read(),
            alipay_public_key_string=open(sys.argv[2]).read(),
            sign_type="RSA2",
        )
        sign = data.pop("sign")
        print(ali.verify(data, sign))
    elif cmd == "page-pay":
        ali = client(sys.argv[2], sys.argv[3])
        print(
            ali.api_alipay_trade_page_pay(
                subject='语雀 & = + % } " 空格',
                out_trade_no="PY-20240101-0001",
                total_amount="88.80",
                return_url="https://shop.example/return?a=1&b=2",
                notify_url="https://shop.example/notify",
                passback_params="x%3D1",
                timeout_express="30m",
            )
        )
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
