/**
 * The operator commands print what the admin API returns: `--json` is the API's answer as is, the
 * tables carry the same numbers. Run in-process (argv parsed with the real ADMIN_COMMANDS options) against
 * a real admin app on a real listener, over a real journal and scheduler.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '../../src/admin/app.js';
import { runAdminCommand } from '../../src/cli/admin-commands.js';
import { formatRate } from '../../src/cli/admin-format.js';
import { ADMIN_COMMANDS } from '../../src/cli/admin-options.js';
import { type AdminFixture, startAdminFixture, TOKEN } from '../helpers/admin.js';
import { tempDir } from '../helpers/gateway.js';
import { listen } from '../helpers/ingest.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

let fx: AdminFixture;
let receiver: Receiver;
let server: { url: string; close(): Promise<void> };
let app: ReturnType<typeof createAdminApp>;
const tmp = tempDir();
const ids = { a: [] as string[], b: [] as string[] };
let frozen = true;

/** Runs `sluice <argv>` as main.ts does: strict parseArgs with the command's own options, then runAdminCommand. */
async function sluice(argv: string[], io: { env?: Record<string, string>; configFile?: string; auth?: boolean } = {}) {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: ADMIN_COMMANDS[command!]!.options,
    allowPositionals: true,
    strict: true,
  });
  const defaults = io.auth === false ? {} : { url: server.url, token: TOKEN };
  let out = '';
  let err = '';
  const code = await runAdminCommand(
    command!,
    positionals,
    { ...defaults, ...values },
    {
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      env: io.env ?? {},
      configFile: io.configFile ?? join(tmp.dir, 'no-admin.yaml'),
    },
  );
  return { code, out, err };
}
const api = async (path: string) => (await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
const cells = (line: string | undefined) => line!.trim().split(/\s{2,}/);

beforeAll(async () => {
  writeFileSync(join(tmp.dir, 'no-admin.yaml'), 'destinations: {}\n');
  receiver = await startReceiver();
  fx = await startAdminFixture({
    destinations: { crm: { url: `${receiver.url}/crm` }, erp: { url: `${receiver.url}/erp`, rate: '1/h', burst: 3 } },
    sources: { a: { path: '/in/a', to: 'crm' }, b: { path: '/in/b', to: 'erp' } },
  });
  await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
  for (let i = 0; i < 4; i++) ids.a.push(await fx.post('/in/a', JSON.stringify({ a: i })));
  for (let i = 0; i < 5; i++) ids.b.push(await fx.post('/in/b', JSON.stringify({ b: i })));
  await waitUntil(
    async () => (await fx.adminJson('/destinations')).destinations[1].delivered_last_hour === 3,
    20_000,
    'erp: 3 delivered',
  );
  // The app the CLI talks to reads a clock held 30 s after the first event, so that the numbers
  // hold still, until the replay tests (a replay is due at the app's "now").
  const first = Date.parse((await fx.adminJson(`/events/${ids.a[0]}`)).received_at);
  const clock = () => (frozen ? first + 30_000 : Date.now());
  app = createAdminApp({
    journal: fx.journal,
    scheduler: fx.scheduler,
    destinations: fx.config.destinations,
    token: TOKEN,
    metrics: fx.metrics,
    reporter: fx.reporter,
    isReady: () => true,
    clock,
  });
  server = await listen(app);
});
afterAll(async () => {
  await server.close();
  await fx.close();
  await receiver.close();
  tmp.remove();
});

describe('sluice status', () => {
  it('--json prints GET /destinations as is', async () => {
    const { code, out, err } = await sluice(['status', '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(await api('/destinations'));
  });

  it('prints a table with the same numbers', async () => {
    const { code, out } = await sluice(['status']);
    expect(code).toBe(0);
    // The first line names the gateway that answered.
    expect(out.split('\n')[0]).toMatch(new RegExp(`^gateway ${server.url} at \\d\\d:\\d\\d:\\d\\d$`));
    const lines = out.trimEnd().split('\n').slice(2);
    expect(cells(lines[0])).toEqual([
      'DESTINATION',
      'STATE',
      'PENDING',
      'RETRYING',
      'IN FLIGHT',
      'CLAIMED',
      'DEAD',
      'DELIVERED 1H',
      'OLDEST',
      'RATE/S',
      'ETA',
      'PACE',
      'ORDERING',
    ]);
    expect(lines).toHaveLength(3);
    const { destinations } = (await api('/destinations')) as {
      destinations: { oldest_pending_age_seconds: number; rate_per_second: number }[];
    };
    expect(cells(lines[1])).toEqual([
      'crm',
      'paused',
      '4',
      '0',
      '0',
      '0',
      '0',
      '0',
      '30s',
      '0',
      '-',
      'unlimited ×1 fixed',
      'unordered',
    ]);
    const erp = destinations[1]!;
    expect(erp.oldest_pending_age_seconds).toBeLessThanOrEqual(30);
    expect(erp.rate_per_second).toBeGreaterThan(0);
    // 2 left at 1/h once the burst of 3 is spent.
    expect(cells(lines[2])).toEqual([
      'erp',
      'running',
      '2',
      '0',
      '0',
      '0',
      '0',
      '3',
      `${erp.oldest_pending_age_seconds}s`,
      formatRate(erp.rate_per_second),
      '2h00m',
      '1/h ×1 fixed',
      'unordered',
    ]);
  });
});

describe('sluice events', () => {
  it('list --json prints the page as the API gives it', async () => {
    const { code, out } = await sluice(['events', 'list', '--source', 'b', '--limit', '2', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(await api('/events?source=b&limit=2'));
  });

  it('list pages through every event with --cursor, one table row each', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { code, out } = await sluice([
        'events',
        'list',
        '--source',
        'b',
        '--limit',
        '2',
        ...(cursor ? ['--cursor', cursor] : []),
      ]);
      expect(code).toBe(0);
      const lines = out.trimEnd().split('\n');
      expect(cells(lines[0])).toEqual(['ID', 'RECEIVED', 'SOURCE', 'REQUEST', 'BYTES', 'DELIVERIES']);
      const more = lines.at(-1)!.match(/^more: --cursor (\S+)$/);
      for (const line of lines.slice(1, more ? -1 : undefined)) {
        const [id, received, source, request, bytes, deliveries] = cells(line);
        expect(ids.b).toContain(id);
        expect([source, request, Number(bytes)]).toEqual(['b', 'POST /in/b', 7]);
        expect(Date.parse(received!)).not.toBeNaN();
        expect(deliveries).toMatch(/^erp:(delivered\(1\)|pending)$/);
        seen.push(id!);
      }
      cursor = more?.[1];
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids.b].reverse());
  });

  it('show prints the stored request and its attempts; --json the API answer', async () => {
    const id = ids.b[0]!;
    const json = await sluice(['events', 'show', id, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual(await api(`/events/${id}`));

    const { code, out } = await sluice(['events', 'show', id]);
    expect(code).toBe(0);
    expect(out).toContain(`event     ${id}`);
    expect(out).toContain('request   POST /in/b');
    expect(out).toMatch(/^ {2}content-type: application\/json$/m);
    expect(out).toContain('body (7 bytes)\n  {"b":0}');
    expect(out).toMatch(/^ {2}erp {2}delivered {2}1 attempt {2}finished \S+$/m);
    expect(out).toMatch(/^ {4}#1 {2}\S+ {2}\d+ ms {2}HTTP 200$/m);
  });

  it('filters with --status, --destination and --since given as an age', async () => {
    const { code, out } = await sluice([
      'events',
      'list',
      '--status',
      'pending',
      '--destination',
      'crm',
      '--since',
      '1h',
      '--json',
    ]);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { events: { id: string }[] }).events.map((e) => e.id)).toEqual([...ids.a].reverse());
  });
});

describe('sluice pause, resume and replay', () => {
  it('pause and resume print the new state; replay prints how many went again', async () => {
    frozen = false;
    expect(await sluice(['pause', 'crm'])).toEqual({ code: 0, out: 'crm: paused\n', err: '' });
    expect(await sluice(['resume', 'crm'])).toEqual({ code: 0, out: 'crm: running\n', err: '' });
    expect(fx.scheduler.state('crm')?.paused).toBe(false);
    await waitUntil(
      async () => (await fx.adminJson('/destinations')).destinations[0].delivered_last_hour === 4,
      20_000,
      'crm drained',
    );

    expect(await sluice(['replay', ids.a[0]!])).toEqual({
      code: 0,
      out: `replayed 1 delivery of event ${ids.a[0]}\n`,
      err: '',
    });
    await waitUntil(() => receiver.received.filter((r) => r.url === '/crm').length === 5, 20_000, 'single replay');
    await waitUntil(
      async () => (await fx.adminJson(`/events/${ids.a[0]}`)).deliveries[0].status === 'delivered',
      20_000,
      'recorded',
    );

    expect(await sluice(['replay', '--destination', 'crm'])).toEqual({
      code: 0,
      out: 'replayed 0 deliveries to crm\n',
      err: '',
    });
    const bulk = await sluice(['replay', '--destination', 'crm', '--status', 'delivered', '--since', '1h', '--json']);
    expect(bulk.code).toBe(0);
    expect(JSON.parse(bulk.out)).toEqual({ replayed: 4 });
    await waitUntil(() => receiver.received.filter((r) => r.url === '/crm').length === 9, 20_000, 'bulk replay');
  });

  it('exits 1 with the API error code for an unknown destination or event', async () => {
    const pause = await sluice(['pause', 'nope']);
    expect(pause.code).toBe(1);
    expect(pause.err).toBe('sluice: no destination "nope" in the config [not_found]\n');
    const show = await sluice(['events', 'show', 'missing']);
    expect(show.code).toBe(1);
    expect(show.err).toContain('[not_found]');
    const list = await sluice(['events', 'list', '--destination', 'nope']);
    expect(list).toMatchObject({ code: 1, err: 'sluice: no destination "nope" in the config [not_found]\n' });
  });

  it('events show takes a unique start of an id; a shared one lists candidates', async () => {
    const all = [...ids.a, ...ids.b].sort();
    let common = 0;
    while (all[0]![common] === all[1]![common]) common++;
    const ambiguous = await sluice(['events', 'show', all[0]!.slice(0, common)]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.err).toContain('[ambiguous]');
    expect(ambiguous.err).toContain(all[0]!);
    const unique = all[0]!.slice(0, common + 1);
    if (!all.slice(1).some((id) => id.startsWith(unique))) {
      const shown = await sluice(['events', 'show', unique]);
      expect(shown.code).toBe(0);
      expect(shown.out).toContain(`event     ${all[0]}`);
    }
  });

  it('replay --dry-run lists what a bulk replay would send and changes nothing', async () => {
    // What a replay would change; not the ages and rates, which move with the clock between the two reads.
    const counts = async () =>
      ((await api('/destinations')) as { destinations: Record<string, unknown>[] }).destinations.map(
        ({ name, state, pending, in_flight, claimed, retrying, dead, delivered_last_hour }) => ({
          name,
          state,
          pending,
          in_flight,
          claimed,
          retrying,
          dead,
          delivered_last_hour,
        }),
      );
    const before = await counts();
    const dry = await sluice(['replay', '--destination', 'crm', '--status', 'delivered', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out) as { would_replay: number; events: { id: string }[] };
    const listed = (await api('/events?destination=crm&status=delivered&limit=500')) as { events: { id: string }[] };
    expect(plan.would_replay).toBe(listed.events.length);
    expect(plan.events.map((e) => e.id)).toEqual(listed.events.map((e) => e.id));
    const human = await sluice(['replay', '--destination', 'crm', '--status', 'delivered', '-n']);
    expect(human.out).toMatch(/^dry run: would replay \d+ delivered deliver(y|ies) to crm; nothing was changed\n/);
    expect(await counts()).toEqual(before);
  });

  it('exits 2 on a wrong command line', async () => {
    for (const argv of [
      ['replay'],
      ['replay', 'some-id', '--status', 'dead'],
      ['replay', '--destination', 'crm', '--status', 'pending'],
      ['events', 'frob'],
      ['events', 'show'],
      ['status', 'extra'],
      ['pause'],
      ['events', 'list', '--since', 'yesterday'],
    ]) {
      const { code, err } = await sluice(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toMatch(/^sluice: /);
    }
  });
});

describe('--url and --token defaults', () => {
  it('reads the admin section of the config file, with ${VAR} from the environment', async () => {
    const file = join(tmp.dir, 'sluice.yaml');
    const port = new URL(server.url).port;
    writeFileSync(
      file,
      `admin:\n  host: 0.0.0.0\n  port: ${port}\n  token: \${MY_ADMIN_TOKEN}\ndestinations: { crm: { url: "\${CRM_URL}" } }\n`,
    );
    const ok = await sluice(['pause', 'crm'], { auth: false, configFile: file, env: { MY_ADMIN_TOKEN: TOKEN } });
    expect(ok).toEqual({ code: 0, out: 'crm: paused\n', err: '' });
    await sluice(['resume', 'crm']);

    // The environment overrides the file, and flags override the environment.
    const wrong = await sluice(['status'], {
      auth: false,
      configFile: file,
      env: { MY_ADMIN_TOKEN: TOKEN, SLUICE_ADMIN_TOKEN: 'wrong' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/\[unauthorized\] \(set --token/);
    const flagged = await sluice(['status', '--token', TOKEN], {
      auth: false,
      configFile: file,
      env: { SLUICE_ADMIN_TOKEN: 'wrong' },
    });
    expect(flagged.code).toBe(0);
  });

  it('takes SLUICE_ADMIN_URL and SLUICE_ADMIN_TOKEN from the environment', async () => {
    const { code, out } = await sluice(['status', '--json'], {
      auth: false,
      env: { SLUICE_ADMIN_URL: server.url, SLUICE_ADMIN_TOKEN: TOKEN },
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(await api('/destinations'));
  });

  it('exits 1 when the API cannot be reached or the config file is missing', async () => {
    const down = await sluice(['status'], {
      auth: false,
      env: { SLUICE_ADMIN_URL: 'http://127.0.0.1:1', SLUICE_ADMIN_TOKEN: TOKEN },
    });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^sluice: cannot reach the admin API at http:\/\/127\.0\.0\.1:1/);
    const missing = await sluice(['status'], { configFile: join(tmp.dir, 'absent.yaml') });
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('file not found') });
  });
});
