import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTest, runCli, startGatewayProcess } from '../helpers/child.js';
import { tempDir } from '../helpers/gateway.js';
import { postMany } from '../helpers/post.js';
import { waitUntil } from '../helpers/wait.js';

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
    const loggedAdminUrl = () => /"admin API on (http:\/\/[^"]+)"/.exec(t.child!.output())?.[1];
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
        destinations: { name: string; state: string; pending: number; retrying: number; in_flight: number }[];
      }
    ).destinations;
    expect(crm!.name).toBe('crm');
    expect(crm!.state).toBe('paused');
    expect(crm!.pending + crm!.retrying + crm!.in_flight).toBe(5);

    const table = runCli(['status', '-c', config, '--url', adminUrl]);
    expect(await table.exited).toBe(0);
    expect(table.output()).toMatch(/^DESTINATION\s+STATE/);
    expect(table.output()).toMatch(/crm\s+paused/);

    const wrong = runCli(['status', '--url', adminUrl, '--token', 'nope']);
    expect(await wrong.exited).toBe(1);
  });
});
