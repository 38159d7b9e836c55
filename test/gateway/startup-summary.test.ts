/**
 * A starting gateway says where its listeners, journal and admin token are, each destination's
 * backlog, and warns about a destination that sends nothing (paused, or held), since both outlive a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
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
});
