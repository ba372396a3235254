// npm alipay-sdk@4.14.0 side of interop/run.sh (copied next to its node_modules and run there).
//   node peer.js verify-notify <alipay_public_b64> <app_private_b64>  < json  -> true/false (checkNotifySignV2)
//   node peer.js page-pay      <app_private_b64>   <alipay_public_b64>        -> signed page-pay GET URL
//   node peer.js cert-sn <app_private_b64> <app.crt> <alipay.crt> <root.crt>   -> the three SNs as JSON
'use strict';
const fs = require('fs');
const { AlipaySdk } = require('alipay-sdk');

function sdk(privateKey, alipayPublicKey) {
  return new AlipaySdk({
    appId: '2021000117600000',
    privateKey,
    alipayPublicKey,
    keyType: 'PKCS8',
    gateway: 'https://openapi.alipay.com/gateway.do',
  });
}

const [cmd, a, b] = process.argv.slice(2);
const read = (f) => fs.readFileSync(f, 'utf8').trim();
if (cmd === 'verify-notify') {
  const postData = JSON.parse(fs.readFileSync(0, 'utf8'));
  console.log(String(sdk(read(b), read(a)).checkNotifySignV2(postData)));
} else if (cmd === 'page-pay') {
  const url = sdk(read(a), read(b)).pageExecute('alipay.trade.page.pay', 'GET', {
    bizContent: {
      out_trade_no: 'NODE-20240101-0001',
      product_code: 'FAST_INSTANT_TRADE_PAY',
      subject: '语雀 & = + % } " 空格',
      total_amount: '88.80',
      passback_params: 'x%3D1',
    },
    returnUrl: 'https://shop.example/return?a=1&b=2',
    notifyUrl: 'https://shop.example/notify',
  });
  console.log(url);
} else if (cmd === 'cert-sn') {
  const [alipayCrt, rootCrt] = process.argv.slice(5);
  const s = new AlipaySdk({
    appId: '2021000117600000',
    privateKey: read(a),
    keyType: 'PKCS8',
    appCertContent: fs.readFileSync(b, 'utf8'),
    alipayPublicCertContent: fs.readFileSync(alipayCrt, 'utf8'),
    alipayRootCertContent: fs.readFileSync(rootCrt, 'utf8'),
  });
  console.log(JSON.stringify({
    app_cert_sn: s.config.appCertSn,
    alipay_cert_sn: s.config.alipayCertSn,
    alipay_root_cert_sn: s.config.alipayRootCertSn,
  }));
} else {
  console.error('unknown command ' + cmd);
  process.exit(2);
}
