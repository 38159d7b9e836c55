/**
 * The operator commands against a real gateway process. Without `admin.token`, `sluice status`
 * needs no flag (the CLI reads the token the gateway made beside its journal); a consumer's
 * `Retry-After: 86400` holds the destination at most `retry.max`; `sluice resume` lifts a hold for good.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTest, runCli, startGatewayProcess } from '../helpers/child.js';
import { tempDir } from '../helpers/gateway.js';
import { post, postMany } from '../helpers/post.js';
import { startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = processTest();

describe('operator commands against a running gateway', () => {
  it('sluice status and pause talk to the admin API of a real gateway process', async () => {
    t.tmp = tempDir();
    const config = join(t.tmp.dir, 'sluice.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0, token: t0k }\nstorage: { path: ${join(t.tmp.dir, 'sluice.db')} }\n` +
        `destinations:\n  crm: { url: "http://127.0.0.1:9/", rate: 1/h }\nsources:\n  shop: { path: /in/shop, to: crm }\n`,
    );
    t.child = await startGatewayProcess(config);
    const loggedAdminUrl = () => /"admin API on (http:\/\/[^" ]+)/.exec(t.child!.output())?.[1];
    await waitUntil(
      () => loggedAdminUrl() !== undefined,
      5_000,
      () => `the admin URL in the log:\n${t.child!.output()}`,
    );
    const adminUrl = loggedAdminUrl()!;
    await postMany(`http://127.0.0.1:${t.child.port}/in/shop`, 5);

    const pause = runCli(['pause', 'crm', '-c', config, '--url', adminUrl]);
    expect(await pause.exited).toBe(0);
    const status = runCli(['status', '--json', '-c', config, '--url', adminUrl]);
    expect(await status.exited).toBe(0);
    const [crm] = (
      JSON.parse(status.output()) as {
        destinations: {
          name: string;
          state: string;
          pending: number;
          retrying: number;
          in_flight: number;
          claimed: number;
        }[];
      }
    ).destinations;
    expect(crm!.name).toBe('crm');
    expect(crm!.state).toBe('paused');
    expect(crm!.pending + crm!.retrying + crm!.in_flight + crm!.claimed).toBe(5);

    const table = runCli(['status', '-c', config, '--url', adminUrl]);
    expect(await table.exited).toBe(0);
    expect(table.output()).toMatch(new RegExp(`^gateway ${adminUrl} at `));
    expect(table.output()).toMatch(/^DESTINATION\s+STATE/m);
    expect(table.output()).toMatch(/crm\s+paused/);

    const wrong = runCli(['status', '--url', adminUrl, '--token', 'nope']);
    expect(await wrong.exited).toBe(1);
    // Five processes in a row, each ~1.5 s to start on a loaded 2-core machine.
  }, 90_000);
});

/** A port free right now (the admin listener needs a fixed one for the CLI to find it in the config). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Row = { name: string; state: string; held_until: string | null; held_by: string | null };

async function status(config: string): Promise<Row[]> {
  const cli = runCli(['status', '--json', '-c', config]);
  const code = await cli.exited;
  if (code !== 0) throw new Error(`sluice status exited ${code}: ${cli.output()}`);
  return (JSON.parse(cli.output()) as { destinations: Row[] }).destinations;
}

describe('status --watch', () => {
  it('stops on SIGINT with exit 0, also while the gateway does not answer', async () => {
    const c = runCli(['status', '--watch', '--interval', '200ms', '--url', 'http://127.0.0.1:1', '--token', 'x']);
    await waitUntil(
      () => c.output().includes('still trying'),
      15_000,
      () => `a frame:\n${c.output()}`,
    );
    c.process.kill('SIGINT');
    expect(await c.exited).toBe(0);
  });
});

describe('a gateway without admin.token, and Retry-After holds', () => {
  it('status needs no flag; a day-long Retry-After holds at most retry.max; resume lifts a hold across restarts', async () => {
    let first = new Set<string>(['/crm', '/fast']);
    const receiver = (t.receiver = await startReceiver((r) => {
      // The first request to each path is asked to wait a day; the rest are taken.
      if (first.delete(r.url)) return { status: 429, headers: { 'retry-after': '86400' } };
      return {};
    }));
    t.tmp = tempDir();
    const config = join(t.tmp.dir, 'sluice.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: 0 }\nadmin: { port: ${await freePort()} }\n` +
        `storage: { path: ${join(t.tmp.dir, 'sluice.db')} }\n` +
        'destinations:\n' +
        `  crm: { url: "${receiver.url}/crm", retry: { initial: 100ms, max: 1h } }\n` +
        `  fast: { url: "${receiver.url}/fast", retry: { initial: 100ms, max: 2s } }\n` +
        'sources:\n  a: { path: /in/a, to: crm }\n  b: { path: /in/b, to: fast }\n',
    );
    t.child = await startGatewayProcess(config);
    const ingest = `http://127.0.0.1:${t.child.port}`;
    // The log says where the token is, never the token itself.
    await waitUntil(() => t.child!.output().includes('admin API on'), 5_000, 'the admin log line');
    expect(t.child.output()).toContain(join(t.tmp.dir, 'admin-token'));

    // `fast`: held at most retry.max (2 s), not a day: the event goes again within seconds.
    await post(`${ingest}/in/b`, '{"n":0}');
    await waitUntil(() => receiver.received.filter((r) => r.url === '/fast').length === 2, 10_000, 'fast retried');
    const fast = receiver.received.filter((r) => r.url === '/fast');
    expect(fast[1]!.at - fast[0]!.at).toBeLessThan(4_000);

    // `crm`: held an hour (its retry.max); what comes meanwhile waits.
    await post(`${ingest}/in/a`, '{"n":1}');
    await waitUntil(() => receiver.received.some((r) => r.url === '/crm'), 10_000, 'the 429');
    const held = (await status(config)).find((d) => d.name === 'crm')!;
    expect(held).toMatchObject({ state: 'running', held_by: 'retry_after' });
    expect(Date.parse(held.held_until!)).toBeLessThanOrEqual(Date.now() + 3_600_000 + 5_000);
    expect(Date.parse(held.held_until!)).toBeGreaterThan(Date.now() + 3_000_000);
    await post(`${ingest}/in/a`, '{"n":2}');
    await sleep(1_000);
    expect(receiver.received.filter((r) => r.url === '/crm')).toHaveLength(1);

    const resume = runCli(['resume', 'crm', '-c', config]);
    expect(await resume.exited).toBe(0);
    expect(resume.output()).toMatch(/^crm: running \(lifted the retry_after hold until \S+\)\n$/);
    await waitUntil(() => receiver.received.filter((r) => r.url === '/crm').length === 2, 10_000, 'crm after resume');
    expect((await status(config)).find((d) => d.name === 'crm')).toMatchObject({ held_until: null, held_by: null });

    // A restart does not bring the hold back.
    t.child.process.kill('SIGTERM');
    await t.child.exited;
    first = new Set();
    t.child = await startGatewayProcess(config);
    expect((await status(config)).find((d) => d.name === 'crm')).toMatchObject({ held_until: null });
    await post(`http://127.0.0.1:${t.child.port}/in/a`, '{"n":3}');
    await waitUntil(() => receiver.received.filter((r) => r.url === '/crm').length === 3, 10_000, 'crm after restart');
  }, 90_000);
});
