import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingEvent } from '../../src/journal/port.js';
import { purgeExpired, RETENTION_BATCH } from '../../src/journal/retention.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { tempDir } from '../helpers/gateway.js';

const DAY = 86_400_000;
const retention = { delivered: 7 * DAY, dead: 30 * DAY };
let journal: SqliteJournal | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await journal?.close();
  tmp?.remove();
  journal = tmp = undefined;
});

function open() {
  tmp = tempDir();
  journal = openSqliteJournal({ path: join(tmp.dir, 'sluice.db') });
  return journal;
}

const event = (receivedAt: number): IncomingEvent => ({
  source: 's',
  method: 'POST',
  path: '/in',
  query: '',
  headers: [],
  body: new Uint8Array([1]),
  remoteAddr: null,
  receivedAt,
  destinations: ['crm'],
});

/** Appends `n` events and finishes each with `kind` at time `t`. */
async function finished(j: SqliteJournal, n: number, kind: 'delivered' | 'dead', t: number) {
  await Promise.all(Array.from({ length: n }, () => j.append(event(t))));
  for (;;) {
    const claims = await j.claim({ destination: 'crm', limit: 500, now: t, leaseMs: 1000, fifo: false });
    if (claims.length === 0) return;
    await Promise.all(
      claims.map((c) =>
        j.complete(
          c,
          { attempt: c.attempt, startedAt: t, durationMs: 1, status: kind === 'delivered' ? 200 : 400 },
          { kind },
        ),
      ),
    );
  }
}

describe('retention', () => {
  it('deletes delivered events after retention.delivered and dead ones after retention.dead, in batches', async () => {
    const j = open();
    const t0 = Date.now();
    await finished(j, RETENTION_BATCH * 2 + 10, 'delivered', t0);
    await finished(j, 5, 'dead', t0);
    const pending = await j.append(event(t0));

    expect(await purgeExpired(j, retention, t0 + 6 * DAY)).toBe(0);
    expect(await purgeExpired(j, retention, t0 + 8 * DAY)).toBe(RETENTION_BATCH * 2 + 10);
    expect(await j.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 5 });
    expect(await purgeExpired(j, retention, t0 + 31 * DAY)).toBe(5);
    expect(await j.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
    expect(await j.getEvent(pending.id)).toBeDefined();
  });

  it('lets ingest in between its batches instead of making it wait for the whole purge', async () => {
    const j = open();
    const t0 = Date.now();
    await finished(j, RETENTION_BATCH * 4, 'delivered', t0);
    const order: string[] = [];
    const purge = purgeExpired(j, retention, t0 + 8 * DAY).then(() => order.push('purge done'));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const append = j.append(event(t0)).then(() => order.push('append done'));
    await Promise.all([purge, append]);
    expect(order).toEqual(['append done', 'purge done']);
  });
});
