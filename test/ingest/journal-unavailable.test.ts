import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../helpers/ingest.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('503 when the journal cannot commit', () => {
  it('answers 503 with Retry-After while another process holds the write lock, then recovers', async () => {
    fixture = ingestFixture();
    const other = new Database(fixture.dbPath);
    other.exec('BEGIN IMMEDIATE');
    try {
      const res = await fixture.app.request('/in/shop', { method: 'POST', body: 'locked out' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const res = await fixture.app.request('/in/shop', { method: 'POST', body: 'after' });
    expect(res.status).toBe(202);
    const stored = await fixture.journal.getEvent(((await res.json()) as { id: string }).id);
    expect(Buffer.from(stored!.body).toString()).toBe('after');
    expect((await fixture.journal.countDeliveries('crm')).pending).toBe(1);
  });

  it('answers 503, never 2xx, once the journal file reaches storage.max_size; every 2xx is readable', async () => {
    fixture = ingestFixture({ maxSize: 256 * 1024 });
    const body = 'y'.repeat(20 * 1024);
    const statuses: number[] = [];
    const acked: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fixture.app.request('/in/shop', { method: 'POST', body });
      statuses.push(res.status);
      if (res.status === 202) acked.push(((await res.json()) as { id: string }).id);
      else expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 202 || s === 503)).toBe(true);
    expect(acked.length).toBeGreaterThan(0);
    for (const id of acked) expect(Buffer.from((await fixture.journal.getEvent(id))!.body).toString()).toBe(body);
    expect((await fixture.journal.countDeliveries('crm')).pending).toBe(acked.length);
  });
});
