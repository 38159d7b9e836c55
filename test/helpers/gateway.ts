/**
 * Starts a real gateway (real SQLite file in a fresh temp dir, real listener on an ephemeral
 * port) from a config written as a plain object and validated by the real schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type Config, configSchema } from '../../src/config/schema.js';
import { type Gateway, type GatewayOptions, startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import type { Receiver } from './receiver.js';

/** A fresh temp directory, removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Validates `input` with the real schema, on an ephemeral port and a temp journal unless given. */
export function testConfig(input: Record<string, unknown>, dir: string): Config {
  const server = { host: '127.0.0.1', port: 0, ...(input.server as object) };
  const storage = { path: join(dir, 'sluice.db'), ...(input.storage as object) };
  // Port 0 for the admin listener too: tests run in parallel.
  const admin = { port: 0, ...(input.admin as object) };
  return configSchema.parse({ ...input, server, storage, admin });
}

export interface TestGateway extends Gateway {
  config: Config;
  dir: string;
  /** Closes the gateway and removes its temp dir. */
  stop(): Promise<void>;
}

/** Starts a gateway for a test. */
export async function startTestGateway(
  input: Record<string, unknown>,
  extra: Partial<GatewayOptions> = {},
): Promise<TestGateway> {
  const tmp = tempDir();
  const config = testConfig(input, tmp.dir);
  const gateway = await startGateway({ config, logger: silentLogger(), ...extra });
  return {
    ...gateway,
    config,
    dir: tmp.dir,
    stop: async () => {
      await gateway.close();
      tmp.remove();
    },
  };
}

/** What one in-process gateway test holds; `gatewayTest()` releases it after each test. */
export interface GatewayTest {
  gateway?: TestGateway | undefined;
  receiver?: Receiver | undefined;
}

/**
 * Per-test state: the tests fill it in, and the afterEach registered here hands it to `release`,
 * then empties it for the next test.
 */
export function perTest<T extends object>(release: (state: T) => Promise<void>): T {
  const state = {} as T;
  afterEach(async () => {
    await release(state);
    for (const key of Object.keys(state)) delete state[key as keyof T];
  });
  return state;
}

/**
 * Per-test state of a test that runs a gateway in-process against a receiver: the gateway is
 * stopped first (its in-flight attempts end), then the receiver is closed.
 */
export function gatewayTest(): GatewayTest {
  return perTest<GatewayTest>(async (t) => {
    await t.gateway?.stop();
    await t.receiver?.close();
  });
}
