/**
 * Ordering by key through a whole gateway: real HTTP in, a real receiver that answers 503 at random
 * and records what arrives in which order. Within each key (and among the events without one) every
 * request is the key's next undelivered event, a retry of it or the one after it, never a later one;
 * different keys are in flight at the same time.
 */
import { describe, expect, it } from 'vitest';
import { gatewayTest, startTestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/post.js';
import { startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

const t = gatewayTest();

/** A small seeded generator (mulberry32): the same answers on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = 8;
const PER_KEY = 8;
const KEYLESS = 6;

describe('ordering by key', () => {
  it('keeps ingest order within each key through random 503s, with keys in parallel', async () => {
    const random = seeded(7);
    /** The receiver's answer to each request, by arrival index. */
    const answers: number[] = [];
    const receiver = (t.receiver = await startReceiver((r) => {
      answers[r.index] = random() < 0.3 ? 503 : 200;
      return answers[r.index] === 503 ? { status: 503, body: 'busy', delayMs: 5 } : { status: 200, delayMs: 15 };
    }));
    const gateway = (t.gateway = await startTestGateway({
      destinations: {
        crm: {
          url: receiver.url,
          concurrency: 4,
          ordering: { key: 'json:/customer_id' },
          retry: { initial: '20ms', max: '100ms', max_attempts: 100 },
        },
      },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));

    // Interleaved keys, plus events without a key (no customer_id, or not JSON at all).
    const bodies: string[] = [];
    for (let n = 0; n < PER_KEY; n++) {
      for (let k = 0; k < KEYS; k++) bodies.push(JSON.stringify({ customer_id: `c${k}`, n }));
      if (n < KEYLESS) bodies.push(n % 2 === 0 ? JSON.stringify({ n }) : `not json ${n}`);
    }
    // One at a time: the order of the acknowledgements is the ingest order.
    for (const body of bodies) expect((await post(`${gateway.url}/in/shop`, body)).status).toBe(202);

    const isOk = (i: number) => answers[i] === 200;
    const succeeded = () => answers.filter((a) => a === 200).length;
    await waitUntil(
      () => succeeded() >= bodies.length,
      60_000,
      () => `all ${bodies.length} events delivered (${succeeded()} so far)`,
    );

    const groupOf = (body: string) => {
      const match = /"customer_id":"(c\d+)"/.exec(body);
      return match ? match[1]! : 'keyless';
    };
    const expected = new Map<string, string[]>();
    for (const body of bodies) expected.set(groupOf(body), [...(expected.get(groupOf(body)) ?? []), body]);
    const delivered = new Map<string, number>();
    receiver.received.forEach((r, i) => {
      const body = r.body.toString();
      const group = groupOf(body);
      const done = delivered.get(group) ?? 0;
      // Every request of a group is its oldest undelivered event: nothing later goes before it succeeds.
      expect({ group, body }).toEqual({ group, body: expected.get(group)![done] });
      if (isOk(i)) delivered.set(group, done + 1);
    });
    for (const [group, list] of expected) expect(delivered.get(group)).toBe(list.length);
    expect(answers.filter((a) => a === 503).length).toBeGreaterThan(0);
    // Keys went in parallel, up to concurrency.
    expect(receiver.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(receiver.maxInFlight).toBeLessThanOrEqual(4);
  });
});
