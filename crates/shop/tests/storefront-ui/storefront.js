// Drives the storefront like a new visitor would; see run.sh. Usage: node storefront.js BASE LOG SHOTS
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, logFile, shots] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) { passed += 1; console.log(`PASS: ${what}`); } else { failed += 1; console.log(`FAIL: ${what}${detail ? ` (${detail})` : ''}`); }
  return ok;
}

// The newest code the log SMS provider wrote for `mobile` (log lines look like
// `… SMS code (log provider: …) mobile="13800000001" code="1234"`).
async function codeFromLog(mobile) {
  for (let i = 0; i < 50; i += 1) {
    const text = fs.readFileSync(logFile, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    const found = [...text.matchAll(/SMS code[^\n]*?mobile="?(\d+)"?[^\n]*?code="?(\d{4})/g)].filter((m) => m[1] === mobile);
    if (found.length) return found[found.length - 1][2];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no SMS code for ${mobile} in the server log`);
}

function randomMobile() {
  return `138${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

async function visitor(browser, label, device) {
  const context = await browser.newContext(device);
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // A form refused with a 4xx (wrong code) is expected; CSP refusals and script errors are not.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  let step = 0;
  const shot = async (name) => {
    step += 1;
    // Lazy images below the fold load before a full-page screenshot.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => window.scrollTo(0, 0));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `${label}: ${name} fits ${device.viewport.width} px (no sideways scrolling)`, `${overflow} px`);
    await page.screenshot({ path: path.join(shots, `${label}-${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  const okStatus = (response, what) => check(response && response.status() < 500, `${label}: ${what} answers without a server error`, response && response.status());

  // Home → category → detail.
  okStatus(await page.goto(`${base}/`), 'home');
  check(await page.isVisible('text=新品推荐'), `${label}: the home page shows new goods`);
  check((await page.locator('.grid img').count()) > 0, `${label}: the home page shows goods pictures`);
  await shot('home');
  if (!device.isMobile) {
    // The README's picture: the first screen a new visitor sees.
    await page.screenshot({ path: path.join(shots, 'readme-storefront.png') });
  }
  await Promise.all([page.waitForURL('**/shop/category/**'), page.locator('.block h2 a').first().click()]);
  check((await page.locator('.tree a').count()) > 1, `${label}: the category page shows the category tree`);
  await shot('category');
  await Promise.all([page.waitForURL('**/shop/goods/**'), page.locator('.card a').first().click()]);
  const firstGoods = page.url();
  check(await page.isVisible('#shop-price'), `${label}: the detail page shows the price`);
  await shot('detail');

  // Register: a wrong code first, then the code from the server log.
  await page.goto(`${base}/shop/register/`);
  const mobile = randomMobile();
  await page.fill('#username', mobile);
  await Promise.all([page.waitForSelector('#code-sent'), page.click('#send-code')]);
  check((await page.textContent('#code-sent')).includes('服务器日志'), `${label}: the page says the code is in the server log`);
  await shot('code-sent');
  const code = await codeFromLog(mobile);
  await page.fill('#code', code === '0000' ? '1111' : '0000');
  await page.fill('#password', 'secret123');
  await Promise.all([page.waitForLoadState(), page.click('#register')]);
  check(await page.isVisible('#err-code'), `${label}: a wrong code is refused next to the field`);
  await shot('wrong-code');
  await page.fill('#code', code);
  await page.fill('#password', 'secret123');
  await Promise.all([page.waitForURL(`${base}/shop/`), page.click('#register')]);
  check((await page.textContent('#me')).includes(mobile), `${label}: registered and signed in as ${mobile}`);
  await shot('registered');

  // Two goods into the cart, then a quantity change.
  await page.goto(firstGoods);
  await Promise.all([page.waitForURL('**/shop/cart/'), page.click('#add-to-cart')]);
  // The second goods: from the search, cheapest first, any other than the first.
  await page.goto(`${base}/shop/search/?search=${encodeURIComponent('精选')}&ordering=shop_price`);
  const hrefs = await page.locator('.card a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  const second = hrefs.find((href) => !firstGoods.endsWith(href));
  await page.goto(`${base}${second}`);
  await Promise.all([page.waitForURL('**/shop/cart/'), page.click('#add-to-cart')]);
  check((await page.locator('tbody tr').count()) === 2, `${label}: two goods are in the cart`);
  const before = await page.textContent('#cart-total');
  await page.locator('input.qty').first().fill('2');
  await Promise.all([page.waitForURL('**/shop/cart/'), page.locator('tbody tr').first().locator('button[id^=update]').click()]);
  const after = await page.textContent('#cart-total');
  check(before !== after, `${label}: changing a quantity changes the server's total`, `${before} → ${after}`);
  await shot('cart');

  // Checkout with a new address.
  await Promise.all([page.waitForURL('**/shop/checkout/'), page.click('#checkout')]);
  await page.check('#address-new');
  await page.fill('#province', '北京市');
  await page.fill('#city', '北京市');
  await page.fill('#district', '海淀区');
  await page.fill('#detail', '中关村大街 1 号');
  await page.fill('#signer_name', '张三');
  await page.fill('#signer_mobile', '13912345678');
  await page.fill('#post_script', '请尽快发货');
  await shot('checkout');
  await Promise.all([page.waitForURL('**/shop/orders/*/'), page.click('#place-order')]);
  check((await page.textContent('#order-status')).includes('待支付'), `${label}: the order is placed, unpaid`);
  const orderUrl = page.url();
  await shot('order');

  // Pay in the sandbox cashier.
  await Promise.all([page.waitForURL('**/sandbox/alipay/**'), page.click('#pay')]);
  const method = device.isMobile ? 'alipay.trade.wap.pay' : 'alipay.trade.page.pay';
  check(decodeURIComponent(page.url()).includes(method), `${label}: the Pay button uses ${method}`, page.url().slice(0, 200));
  await page.waitForSelector('#pay');
  await shot('cashier');
  await Promise.all([page.waitForURL(orderUrl), page.click('#pay')]);
  check((await page.textContent('#order-status')).includes('已支付'), `${label}: back on the order page, paid`, await page.textContent('#order-status'));
  await shot('paid');

  // A second order, cancelled while unpaid.
  await page.goto(firstGoods);
  await Promise.all([page.waitForURL('**/shop/cart/'), page.click('#add-to-cart')]);
  await page.goto(`${base}/shop/checkout/`);
  await page.fill('#post_script', '第二单');
  await Promise.all([page.waitForURL('**/shop/orders/*/'), page.click('#place-order')]);
  const second_order = page.url();
  check((await page.textContent('#order-status')).includes('待支付'), `${label}: a second order with the saved address`);
  await shot('second-order');
  await Promise.all([page.waitForURL('**/shop/orders/'), page.click('#cancel')]);
  const listed = await page.locator(`a[href="${new URL(second_order).pathname}"]`).count();
  check(listed === 0, `${label}: the cancelled order is gone from the orders list`);
  check((await page.textContent('main')).includes('已支付'), `${label}: the paid order is still listed`);
  await shot('orders');

  check(errors.length === 0, `${label}: no script or CSP errors in the console`, errors.join(' | '));
  await context.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    await visitor(browser, 'desktop', { viewport: { width: 1280, height: 900 }, isMobile: false, locale: 'zh-CN' });
    await visitor(browser, 'phone', {
      viewport: { width: 375, height: 740 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      locale: 'zh-CN',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    });
  } catch (error) {
    check(false, 'the walk-through finished', error.stack || String(error));
  } finally {
    await browser.close();
  }
  console.log(`storefront e2e: ${passed} passed, ${failed} failed`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
