/**
 * `npm run screenshot`: regenerates test/ui/dashboard.png, the README's picture of the dashboard.
 * A real gateway (temp journal) delivers to a real local receiver for about a minute, with chart
 * samples every second instead of every 10 s so that the charts have a shape; one destination is
 * slow and refuses some requests, then asks to wait (Retry-After). Then headless Chromium signs
 * in at 1366×768, opens a dead event, and saves the picture.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config/schema.js';
import { startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { startReceiver } from '../helpers/receiver.js';

const OUT = fileURLToPath(new URL('./dashboard.png', import.meta.url));
const TOKEN = 'screenshot-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (chromiumMissing()) process.exitCode = 1;
else await main();

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-screenshot-'));
  let erpHolding = false;
  let n = 0;
  const receiver = await startReceiver((r) => {
    n += 1;
    if (r.url.startsWith('/erp')) {
      if (erpHolding) return { status: 429, headers: { 'retry-after': '120' } };
      if (n % 9 === 0) return { status: 500, body: '{"error":"database is locked"}', delayMs: 20 };
      return { delayMs: 60 };
    }
    return { delayMs: 5 };
  });
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    admin: { port: 0, token: TOKEN },
    storage: { path: join(dir, 'sluice.db') },
    sources: {
      shop: { path: '/in/shop', to: ['crm', 'erp'] },
      billing: { path: '/in/billing', to: ['erp'] },
    },
    destinations: {
      crm: { url: `${receiver.url}/crm`, rate: '40/s', concurrency: 4 },
      erp: { url: `${receiver.url}/erp`, rate: '12/s', concurrency: 2, retry: { max_attempts: 2, initial: '1s' } },
    },
  });
  const gateway = await startGateway({ config, logger: silentLogger(), dashboard: { historyIntervalMs: 1000 } });
  const post = (path: string, body: string, type = 'application/json') =>
    fetch(`${gateway.url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

  try {
    // Waves of traffic: bursts above the pace, then quiet, so that the backlog rises and drains.
    for (let second = 0; second < 55; second++) {
      const burst = second % 20 < 6 ? 35 : 4;
      for (let i = 0; i < burst; i++) {
        await post('/in/shop', JSON.stringify({ type: 'order.created', order: { id: second * 100 + i, total: 42.5 } }));
      }
      if (second % 5 === 0)
        await post('/in/billing', `invoice=${second}&status=paid&amount=19.90`, 'application/x-www-form-urlencoded');
      if (second === 50) erpHolding = true;
      await sleep(1000);
    }

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${gateway.adminUrl}/ui`);
      await page.getByLabel('Admin token').fill(TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#live.on').waitFor();
      await page.locator('.destination[data-name="crm"] [data-action="pause"]').click();
      await sleep(300);
      await page.locator('.destination[data-name="crm"] [data-action="resume"]').click();
      await page.getByLabel('Status').selectOption('dead');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.locator('#events tr button').first().click();
      await page.locator('#inspector pre').first().waitFor();
      await sleep(2500);
      await page.mouse.move(0, 0);
      await page.screenshot({ path: OUT });
      console.log(`wrote ${OUT}`);
    } finally {
      await browser.close();
    }
  } finally {
    await gateway.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
