/**
 * A claim judges the retry budget too: a delivery whose lease expired (the process died during the
 * attempt) and whose attempts or age are spent is made dead, with every attempt on record, instead
 * of being claimed again forever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { makeEvent } from './contract/index.js';

const T0 = Date.UTC(2030, 0, 1);
const LEASE = 10_000;

let dir: string;
let journal: SqliteJournal;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-claim-budget-'));
  journal = openSqliteJournal({ path: join(dir, 'journal.db') });
});
afterEach(async () => {
  await journal.close();
  rmSync(dir, { recursive: true, force: true });
});

const claim = (now: number, budget: { maxAttempts: number; maxAgeMs: number }) =>
  journal.claim({ destination: 'crm', limit: 10, now, leaseMs: LEASE, fifo: false, budget });

describe('claim and the retry budget', () => {
  it('makes a delivery dead once lost attempts reach max_attempts', async () => {
    const { id } = await journal.append(makeEvent({ receivedAt: T0 }));
    const budget = { maxAttempts: 2, maxAgeMs: 86_400_000 };
    // Two attempts, each lost with its process: claimed, never completed.
    expect((await claim(T0, budget)).map((c) => c.attempt)).toEqual([1]);
    expect((await claim(T0 + LEASE + 1, budget)).map((c) => c.attempt)).toEqual([2]);
    // The second lease expires: the budget is spent, nothing is claimed, the delivery is dead.
    expect(await claim(T0 + 2 * LEASE + 2, budget)).toEqual([]);
    const event = await journal.getEvent(id);
    const delivery = event!.deliveries[0]!;
    expect(delivery.status).toBe('dead');
    expect(delivery.attempts).toBe(2);
    expect(delivery.attemptLog.map((a) => a.attempt)).toEqual([1, 2]);
    expect(delivery.lastError).toMatch(/gave up after 2 attempts/);
    expect(await journal.nextDueAt('crm', false)).toBeUndefined();
  });

  it('makes a tried delivery dead once it is older than max_age, but not one never tried', async () => {
    await journal.append(makeEvent({ receivedAt: T0 }));
    const budget = { maxAttempts: 25, maxAgeMs: 60_000 };
    // Never tried, however old (a pause, a hold): it gets its first attempt.
    const [first] = await claim(T0 + 120_000, budget);
    expect(first?.attempt).toBe(1);
    // Lost, and now past max_age: dead.
    expect(await claim(T0 + 120_000 + LEASE + 1, budget)).toEqual([]);
    const [delivery] = (await journal.getEvent(first!.event.id))!.deliveries;
    expect(delivery!.status).toBe('dead');
    expect(delivery!.lastError).toMatch(/past max_age/);
  });
});
