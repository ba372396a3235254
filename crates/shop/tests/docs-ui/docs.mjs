// Opens /docs/ in Chromium with every request that leaves loopback refused (and recorded), waits
// for Swagger UI to list the operations, and saves a screenshot. Exits non-zero on any problem.
import { chromium } from 'playwright-core';

const [base, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const offLoopback = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return route.continue();
    offLoopback.push(url.href);
    return route.abort();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  await page.goto(`${base}/docs/`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.opblock', { timeout: 30000 });
  const operations = await page.locator('.opblock').count();
  const title = await page.locator('.info .title').innerText();
  // Expand the order creation to show its body and the Idempotency-Key header.
  await page.locator('.opblock-post .opblock-summary-path[data-path="/orders/"]').first().click();
  await page.waitForSelector('text=Idempotency-Key', { timeout: 10000 });
  await page.screenshot({ path: screenshot, fullPage: false });
  if (!title.includes('mxshop API')) problems.push(`title: ${title}`);
  if (operations < 30) problems.push(`only ${operations} operations listed`);
  if (offLoopback.length) problems.push(`requests left loopback: ${offLoopback.join(', ')}`);
  console.log(`docs UI: "${title.split('\n')[0]}", ${operations} operations, ${offLoopback.length} requests off loopback`);
} finally {
  await browser.close();
}
if (problems.length) {
  for (const problem of problems) console.log(`FAIL: ${problem}`);
  process.exit(1);
}
console.log('PASS: the docs UI renders offline from the binary');
