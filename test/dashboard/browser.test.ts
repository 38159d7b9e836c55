/**
 * The dashboard in a real headless Chromium against a real gateway and a real HTTP receiver: sign
 * in, watch a backlog fall, pause and see the state change without a reload, replay a dead event
 * and see it delivered, replay all dead ones with progress, see the actions in the activity list,
 * sign out. Every request the page makes is recorded: none may leave 127.0.0.1. Screenshots go to
 * a temp dir (its path is printed) for a person to look at.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Browser, chromiumMissing, launchChromium } from '../helpers/chromium.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

const missing = chromiumMissing();
const TOKEN = 'dashboard-browser-test-token';

let browser: Browser | undefined;
let gateway: TestGateway | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await browser?.close();
  await gateway?.stop();
  await receiver?.close();
  browser = gateway = receiver = undefined;
});

const backlogOf = async (page: Page, name: string) =>
  Number(
    (await page.locator(`.destination[data-name="${name}"] [data-field="backlog"]`).textContent())!.replace(/,/g, ''),
  );

describe.skipIf(missing)('dashboard in Chromium', () => {
  it('signs in, shows a falling backlog, pauses, replays, and calls nothing but 127.0.0.1', async () => {
    const shots = mkdtempSync(join(tmpdir(), 'sluice-dashboard-shots-'));
    console.log(`dashboard screenshots: ${shots}`);
    // Bodies with "fail" are refused while `refusing`; a few ms per request so that the backlog is visible.
    let refusing = true;
    receiver = await startReceiver((r) =>
      refusing && r.body.includes('fail') ? { status: 422, body: '{"error":"nope"}' } : { delayMs: 5 },
    );
    gateway = await startTestGateway({
      admin: { token: TOKEN },
      sources: { shop: { path: '/in/shop', to: ['crm'] } },
      destinations: { crm: { url: `${receiver.url}/crm`, rate: '20/s', retry: { max_attempts: 1 } } },
    });
    // Paused while the events arrive: the backlog waits for the browser, however slowly it starts.
    await gateway.scheduler.pause('crm');
    for (let i = 0; i < 3; i++) await post(gateway.url, `{"fail":${i}}`);
    for (let i = 0; i < 200; i++) await post(gateway.url, `{"order":${i}}`);

    browser = await launchChromium();
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    let loads = 0;
    page.on('load', () => (loads += 1));

    await page.goto(`${gateway.adminUrl}/ui`);
    await expect.poll(() => page.locator('.destination').count()).toBe(0);
    await page.getByLabel('Admin token').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.destination[data-name="crm"]').waitFor();
    await page.locator('#live.on').waitFor();
    const loadsAfterSignIn = loads;
    const port = new URL(gateway.adminUrl!).port;
    const cookie = (await browser.context.cookies()).find((c) => c.name === `sluice_signin_${port}`);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false });

    const state = page.locator('.destination[data-name="crm"] [data-field="state"]');
    expect(await state.textContent()).toBe('paused');
    await expect.poll(() => backlogOf(page, 'crm'), { timeout: 10_000 }).toBe(203);

    // Resume: the state changes and the backlog falls, live, with no reload.
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toBe('running');
    await expect.poll(() => backlogOf(page, 'crm'), { timeout: 20_000 }).toBeLessThan(200);
    await page.screenshot({ path: join(shots, '1-draining.png') });

    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toBe('paused');
    await expect.poll(() => page.locator('#activity').textContent(), { timeout: 10_000 }).toContain('paused crm');
    await page.screenshot({ path: join(shots, '2-paused.png') });
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toBe('running');
    await expect.poll(() => backlogOf(page, 'crm'), { timeout: 40_000 }).toBe(0);

    // A dead event: filter, inspect (body pretty-printed, the refusal with its answer), replay.
    refusing = false;
    await page.getByLabel('Status').selectOption('dead');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.locator('#events tr').count(), { timeout: 10_000 }).toBe(3);
    await page.locator('#events tr').first().getByRole('button', { name: 'Inspect' }).click();
    const inspector = page.locator('#inspector');
    await expect.poll(() => inspector.textContent()).toContain('To crm: dead, 1 attempt');
    expect(await inspector.locator('pre[data-body="json"]').textContent()).toMatch(/^\{\n {2}"fail": 2\n\}$/);
    expect(await inspector.textContent()).toContain('422');
    await page.screenshot({ path: join(shots, '3-inspector.png') });
    await inspector.getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => inspector.textContent(), { timeout: 15_000 }).toContain('To crm: delivered, 2 attempts');

    // The two left: bulk replay, with its progress.
    await page.getByRole('button', { name: 'Replay dead' }).click();
    const progress = page.locator('.destination[data-name="crm"] [data-field="replay"]');
    await expect.poll(() => progress.textContent(), { timeout: 15_000 }).toBe('Replay of 2 dead deliveries: done');
    await expect
      .poll(() => receiver!.received.filter((r) => r.body.includes('fail')).length, { timeout: 10_000 })
      .toBe(3 + 3);
    await expect.poll(() => page.locator('#activity').textContent()).toMatch(/replayed crm \(2\).*via dashboard/);
    await page.screenshot({ path: join(shots, '4-replayed.png'), fullPage: true });
    expect(loads).toBe(loadsAfterSignIn);

    // Keyboard: the controls are reachable by Tab and show where the focus is.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => (globalThis as any).document.activeElement?.tagName);
    expect(['BUTTON', 'SELECT', 'INPUT']).toContain(focused);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.locator('.destination').count()).toBe(0);

    const foreign = requests.filter((url) => new URL(url).hostname !== '127.0.0.1');
    expect(foreign).toEqual([]);
    expect(requests.length).toBeGreaterThan(5);
  }, 90_000);
});

async function post(base: string, body: string): Promise<void> {
  const res = await fetch(`${base}/in/shop`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  if (res.status !== 202 && res.status !== 200) throw new Error(`ingest answered ${res.status}`);
}
