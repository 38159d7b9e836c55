/**
 * A starting gateway says where its listeners, journal and admin token are, each destination's
 * backlog, and warns about a destination that sends nothing (paused, or held), since both outlive a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Scheduler } from '../../src/delivery/scheduler.js';
import { type Gateway, startGateway } from '../../src/gateway.js';
import type { Journal } from '../../src/journal/port.js';
import { silentLogger } from '../../src/log.js';
import { logStartupSummary } from '../../src/startup-summary.js';
import { tempDir, testConfig } from '../helpers/gateway.js';
import { capturedLogger } from '../helpers/log.js';
import { post } from '../helpers/post.js';

let gateway: Gateway | undefined;
const tmp = tempDir();
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('start-up summary', () => {
  it('names listeners, journal, token file and backlog, and warns about a paused destination', async () => {
    const config = testConfig(
      {
        destinations: { crm: { url: 'http://user:pw@127.0.0.1:9/hook?api_key=secret', rate: '5/s', concurrency: 2 } },
        sources: { shop: { path: '/in/shop', to: 'crm' } },
      },
      tmp.dir,
    );
    gateway = await startGateway({ config, logger: silentLogger() });
    await gateway.scheduler.pause('crm');
    await post(`${gateway.url}/in/shop`, '{}');
    await post(`${gateway.url}/in/shop`, '{}');
    await gateway.close();

    const log = capturedLogger();
    gateway = await startGateway({ config, logger: log.logger });
    const entries = log.entries();
    const line = (start: string) => entries.find((e) => String(e.msg).startsWith(start));
    expect(line('listening on 127.0.0.1:')).toMatchObject({ level: 30, url: gateway.url });
    expect(line('admin API on')!.msg).toContain(`token in ${tmp.dir}/admin-token`);
    expect(line('journal ')).toMatchObject({ journal: `${tmp.dir}/sluice.db` });
    const crm = line('destination crm →')!;
    expect(crm).toMatchObject({ level: 30, pending: 2, retrying: 0, dead: 0 });
    expect(crm.msg).toBe(
      'destination crm → http://127.0.0.1:9/hook?… (5/s, concurrency 2): 2 pending, 0 retrying, 0 dead',
    );
    expect(JSON.stringify(entries)).not.toContain('secret');
    expect(line('destination crm is paused')).toMatchObject({ level: 40 });
  });

  it('warns when the admin listener is beyond loopback, where only a TLS proxy protects token and cookie', async () => {
    const summary = async (admin: Record<string, unknown>) => {
      const config = testConfig({ admin, destinations: { crm: { url: 'http://127.0.0.1:9/' } }, sources: {} }, tmp.dir);
      const log = capturedLogger();
      await logStartupSummary({
        config,
        url: 'http://127.0.0.1:8080',
        port: 8080,
        adminUrl: `http://${config.admin.host}:8081`,
        // No backlog to read here: only the listener lines matter.
        journal: { destinationStats: () => Promise.reject(new Error('not read')) } as unknown as Journal,
        scheduler: { state: () => undefined } as unknown as Scheduler,
        logger: log.logger,
      });
      return log.entries().filter((e) => String(e.msg).includes('TLS proxy'));
    };
    expect(await summary({ host: '0.0.0.0', token: 'x'.repeat(32) })).toMatchObject([{ level: 40, host: '0.0.0.0' }]);
    expect(await summary({ host: '127.0.0.1' })).toEqual([]);
    expect(await summary({ host: '::1' })).toEqual([]);
  });
});
