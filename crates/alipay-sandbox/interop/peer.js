// npm alipay-sdk@4.14.0 (and playwright-core + Debian's Chromium) against the sandbox; run by interop/run.sh
// from a directory holding their node_modules.
//   node peer.js round   <gateway> <app_id> <app_private_b64> <alipay_public_b64> <wrong_public_b64> <wrong_private_b64>
//   node peer.js browser <gateway> <app_id> <app_private_b64> <alipay_public_b64>
// Each runs a merchant on 127.0.0.1 (notify_url and return_url verified with checkNotifySignV2) and prints
// PASS:/FAIL: lines; exit code 1 on any failure.
'use strict';
const fs = require('fs');
const http = require('http');
const { AlipaySdk } = require('alipay-sdk');

let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    console.log(`PASS: ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL: ${what} ${detail === undefined ? '' : JSON.stringify(detail)}`);
  }
}

const read = (f) => fs.readFileSync(f, 'utf8').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sdkFor(gateway, appId, privateKey, alipayPublicKey) {
  return new AlipaySdk({ appId, privateKey, alipayPublicKey, keyType: 'PKCS8', gateway, camelcase: false });
}

// A merchant: POST /notify verified with checkNotifySignV2 (answers success iff verified), GET /return verified too.
function startMerchant(sdk) {
  const m = { notifications: [], returns: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://127.0.0.1');
      const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
      const fields = Object.fromEntries(params.entries());
      const verified = sdk.checkNotifySignV2({ ...fields });
      if (url.pathname === '/checkout') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${m.checkout || ''}</body></html>`);
      } else if (req.method === 'POST' && url.pathname === '/notify') {
        m.notifications.push({ fields, verified });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(verified ? 'success' : 'fail');
      } else {
        m.returns.push({ fields, verified });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<html><body><p id="result">${verified ? 'return verified' : 'return NOT verified'}</p></body></html>`);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      m.base = `http://127.0.0.1:${server.address().port}`;
      m.close = () => server.close();
      resolve(m);
    });
  });
}

async function waitFor(list, pred, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const hit = list.find(pred);
    if (hit) return hit;
    await sleep(50);
  }
  return undefined;
}

const exec = (sdk, method, biz) => sdk.exec(method, { bizContent: biz }, { validateSign: true });

async function round(gateway, appId, key, alipayPub, wrongPub, wrongKey) {
  const sdk = sdkFor(gateway, appId, key, alipayPub);
  const m = await startMerchant(sdk);
  const base = gateway.replace(/\/gateway\.do$/, '');
  const order = `NODE-${Date.now()}`;
  const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
    bizContent: { out_trade_no: order, product_code: 'FAST_INSTANT_TRADE_PAY', subject: '语雀 & = + % } " 空格 /',
      total_amount: '88.80', passback_params: 'x%3D1' },
    returnUrl: `${m.base}/return`,
    notifyUrl: `${m.base}/notify`,
  });
  let r = await fetch(url);
  let page = await r.text();
  check(r.status === 200 && page.includes(order) && page.includes('88.80'), 'npm alipay-sdk: pageExecute GET URL accepted, cashier shows the order', r.status);
  let q = await exec(sdk, 'alipay.trade.query', { out_trade_no: order });
  check(q.trade_status === 'WAIT_BUYER_PAY', 'npm alipay-sdk: exec query (validateSign): WAIT_BUYER_PAY', q);

  const tradeNo = (page.match(/name="trade_no" value="([^"]+)"/) || [])[1];
  r = await fetch(`${base}/cashier/pay`, { method: 'POST', body: new URLSearchParams({ trade_no: tradeNo }), redirect: 'manual' });
  const location = r.headers.get('location') || '';
  check(r.status === 303 && location.startsWith(`${m.base}/return?`), 'npm alipay-sdk: Pay redirects to return_url', location);
  const landed = await (await fetch(location)).text();
  check(landed.includes('return verified'), 'npm alipay-sdk: browser return verified by checkNotifySignV2', landed);
  const paid = await waitFor(m.notifications, (n) => n.fields.out_trade_no === order && !n.fields.refund_fee);
  check(paid && paid.verified && paid.fields.trade_status === 'TRADE_SUCCESS' && paid.fields.total_amount === '88.80'
    && Object.values(paid.fields).every((v) => v !== ''), 'npm alipay-sdk: payment notification verified by checkNotifySignV2', paid);
  if (paid) {
    const tampered = { ...paid.fields, total_amount: '0.01' };
    check(sdk.checkNotifySignV2(tampered) === false, 'npm alipay-sdk: control: tampered notification rejected');
  }
  q = await exec(sdk, 'alipay.trade.query', { out_trade_no: order });
  check(q.trade_status === 'TRADE_SUCCESS' && q.trade_no === tradeNo, 'npm alipay-sdk: query: TRADE_SUCCESS', q);

  let f = await exec(sdk, 'alipay.trade.refund', { out_trade_no: order, refund_amount: '10.00', out_request_no: `${order}-R1` });
  check(f.code === '10000' && f.fund_change === 'Y' && f.refund_fee === '10.00', 'npm alipay-sdk: partial refund (validateSign): fund_change=Y', f);
  f = await exec(sdk, 'alipay.trade.refund', { out_trade_no: order, refund_amount: '10.00', out_request_no: `${order}-R1` });
  check(f.code === '10000' && f.fund_change === 'N', 'npm alipay-sdk: refund replay: fund_change=N', f);
  f = await exec(sdk, 'alipay.trade.refund', { out_trade_no: order, refund_amount: '78.81', out_request_no: `${order}-R2` });
  check(f.code === '40004' && f.sub_code === 'ACQ.REASON_TRADE_REFUND_FEE_ERR', 'npm alipay-sdk: over-refund refused (signed refusal verified)', f);
  f = await exec(sdk, 'alipay.trade.fastpay.refund.query', { out_trade_no: order, out_request_no: `${order}-R1` });
  check(f.code === '10000' && f.refund_amount === '10.00' && f.refund_status === 'REFUND_SUCCESS', 'npm alipay-sdk: fastpay.refund.query (validateSign)', f);
  f = await exec(sdk, 'alipay.trade.refund', { out_trade_no: order, refund_amount: '78.80', out_request_no: `${order}-R2` });
  check(f.code === '10000' && f.refund_fee === '88.80', 'npm alipay-sdk: full refund: refund_fee=88.80', f);
  const partial = await waitFor(m.notifications, (n) => n.fields.out_biz_no === `${order}-R1`);
  const full = await waitFor(m.notifications, (n) => n.fields.out_biz_no === `${order}-R2`);
  check(partial && partial.verified && partial.fields.trade_status === 'TRADE_SUCCESS' && partial.fields.refund_fee === '10.00' && partial.fields.gmt_refund,
    'npm alipay-sdk: partial-refund notification verified (TRADE_SUCCESS + refund_fee/gmt_refund/out_biz_no)', partial);
  check(full && full.verified && full.fields.trade_status === 'TRADE_CLOSED' && full.fields.refund_fee === '88.80',
    'npm alipay-sdk: full-refund notification verified (TRADE_CLOSED + refund_fee)', full);

  const order2 = `${order}-C`;
  f = await exec(sdk, 'alipay.trade.close', { out_trade_no: order2 });
  check(f.code === '40004' && f.sub_code === 'ACQ.TRADE_NOT_EXIST', 'npm alipay-sdk: close before the cashier was opened: ACQ.TRADE_NOT_EXIST', f);
  // The POST-form variant of page pay: public fields in the action URL, biz_content in the body.
  const form = sdk.pageExecute('alipay.trade.page.pay', 'POST', {
    bizContent: { out_trade_no: order2, product_code: 'FAST_INSTANT_TRADE_PAY', subject: 'close me', total_amount: '1.00' },
    notifyUrl: `${m.base}/notify`,
  });
  const action = (form.match(/action="([^"]+)"/) || [])[1].replace(/&amp;/g, '&');
  const inputs = {};
  for (const mm of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    inputs[mm[1]] = mm[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  r = await fetch(action, { method: 'POST', body: new URLSearchParams(inputs) });
  page = await r.text();
  check(r.status === 200 && page.includes(order2), 'npm alipay-sdk: pageExecute POST form accepted, cashier shows the order', { status: r.status, inputs: Object.keys(inputs) });
  f = await exec(sdk, 'alipay.trade.close', { out_trade_no: order2 });
  check(f.code === '10000' && f.out_trade_no === order2, 'npm alipay-sdk: close (validateSign)', f);
  f = await exec(sdk, 'alipay.trade.cancel', { out_trade_no: order2 });
  check(f.code === '10000' && f.action === 'close', 'npm alipay-sdk: cancel (validateSign)', f);

  // Controls: the SDK really verifies, the gateway really checks.
  try {
    await exec(sdkFor(gateway, appId, key, wrongPub), 'alipay.trade.query', { out_trade_no: order });
    check(false, 'npm alipay-sdk: control: a response checked with the wrong Alipay key is rejected by the SDK');
  } catch (e) {
    check(/验签失败/.test(e.message), 'npm alipay-sdk: control: a response checked with the wrong Alipay key is rejected by the SDK', e.message);
  }
  f = await exec(sdkFor(gateway, appId, wrongKey, alipayPub), 'alipay.trade.query', { out_trade_no: order });
  check(f.code === '40002' && f.sub_code === 'isv.invalid-signature', 'npm alipay-sdk: control: a request signed with the wrong app key is refused (isv.invalid-signature)', f);
  m.close();
}

async function browser(gateway, appId, key, alipayPub) {
  const { chromium } = require('playwright-core');
  const sdk = sdkFor(gateway, appId, key, alipayPub);
  const m = await startMerchant(sdk);
  const order = `WEB-${Date.now()}`;
  const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
    bizContent: { out_trade_no: order, product_code: 'FAST_INSTANT_TRADE_PAY', subject: '浏览器 <测试>', total_amount: '12.34' },
    returnUrl: `${m.base}/return`,
    notifyUrl: `${m.base}/notify`,
  });
  const b = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await b.newPage();
    await page.goto(url);
    const shown = `${await page.textContent('#out_trade_no')} ${await page.textContent('#amount')} ${await page.textContent('#subject')}`;
    check(shown.includes(order) && shown.includes('12.34') && shown.includes('浏览器 <测试>'), 'browser: the cashier shows order, amount and subject', shown);
    await Promise.all([page.waitForURL(`${m.base}/return**`), page.click('#pay')]);
    check(page.url().startsWith(`${m.base}/return?`), 'browser: Pay lands on return_url', page.url());
    check((await page.textContent('#result')) === 'return verified', 'browser: the return is verified by checkNotifySignV2');
    const n = await waitFor(m.notifications, (x) => x.fields.out_trade_no === order);
    check(n && n.verified && n.fields.trade_status === 'TRADE_SUCCESS', 'browser: the merchant received a notification that verifies', n);

    // A second order through the auto-submitting POST form, closed with the Close button.
    const order2 = `${order}-X`;
    const form = sdk.pageExecute('alipay.trade.page.pay', 'POST', {
      bizContent: { out_trade_no: order2, product_code: 'FAST_INSTANT_TRADE_PAY', subject: 'close', total_amount: '1.00' },
      returnUrl: `${m.base}/return`,
      notifyUrl: `${m.base}/notify`,
    });
    m.checkout = form; // the shop's checkout page: the auto-submitting form
    await page.goto(`${m.base}/checkout`, { waitUntil: 'commit' });
    await page.waitForSelector('#close');
    check((await page.textContent('#out_trade_no')) === order2, 'browser: the POST form opens the cashier');
    await Promise.all([page.waitForSelector('#title'), page.click('#close')]);
    const q = await exec(sdk, 'alipay.trade.query', { out_trade_no: order2 });
    check(q.trade_status === 'TRADE_CLOSED', 'browser: Close closes the trade (query verified)', q);
  } finally {
    await b.close();
    m.close();
  }
}

(async () => {
  const [cmd, gateway, appId, keyFile, pubFile, wrongPubFile, wrongKeyFile] = process.argv.slice(2);
  if (cmd === 'round') {
    await round(gateway, appId, read(keyFile), read(pubFile), read(wrongPubFile), read(wrongKeyFile));
  } else if (cmd === 'browser') {
    await browser(gateway, appId, read(keyFile), read(pubFile));
  } else {
    console.error(`unknown command ${cmd}`);
    process.exit(2);
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log(`FAIL: ${process.argv[2]}: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
