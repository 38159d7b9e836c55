/**
 * A real headless Chromium (Debian's `chromium` package) driven by playwright-core, with a fresh
 * profile per launch. Without /usr/bin/chromium a test skips with a message, except under CI=true,
 * where it fails (CI installs the package: .ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep the browser from calling home or needing a sandbox/GPU the test machine lacks. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Why browser tests cannot run here (undefined: they can); throws under CI=true. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const message = `${CHROMIUM} not found: browser tests skipped (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run them`);
  console.warn(message);
  return message;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh user-data-dir, removed on close. */
export async function launchChromium(viewport = { width: 1366, height: 768 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
