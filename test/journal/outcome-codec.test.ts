/**
 * The flat array an attempt's outcome takes to the SQLite writer: after a structured clone (what
 * postMessage does) every field of every verdict comes back as it went, absent ones absent.
 */
import { describe, expect, it } from 'vitest';
import type { CompleteItem } from '../../src/journal/sqlite/multi-row-writes.js';
import { decodeOutcome, encodeOutcome } from '../../src/journal/sqlite/outcome-codec.js';

const outcomes: CompleteItem[] = [
  {
    claim: { deliveryId: 7, attempt: 1 },
    attempt: {
      attempt: 1,
      startedAt: 1_700_000_000_123,
      durationMs: 1.2345,
      status: 200,
      response: new Uint8Array([0, 255]),
    },
    verdict: { kind: 'delivered' },
  },
  {
    claim: { deliveryId: 2 ** 40, attempt: 3 },
    attempt: { attempt: 3, startedAt: 1, durationMs: 0, status: 503, error: 'HTTP 503 — ünavailable \uD800' },
    verdict: { kind: 'retry', at: 1_700_000_060_000.5 },
  },
  {
    claim: { deliveryId: 9, attempt: 10 },
    attempt: { attempt: 10, startedAt: 5, durationMs: 30_000, error: 'timeout: no complete answer within 30000 ms' },
    verdict: { kind: 'dead' },
  },
  {
    claim: { deliveryId: 10, attempt: 1 },
    attempt: { attempt: 1, startedAt: 5, durationMs: 2, status: 204, response: new Uint8Array(0) },
    verdict: { kind: 'delivered' },
  },
];

describe('outcome encoding', () => {
  it('gives back every field of every verdict, through a structured clone', () => {
    for (const item of outcomes) {
      const decoded = decodeOutcome(structuredClone(encodeOutcome(item)));
      const { response, ...attempt } = decoded.attempt;
      const { response: sent, ...sentAttempt } = item.attempt;
      expect(decoded.kind).toBe('complete');
      expect(decoded.claim).toEqual(item.claim);
      expect(decoded.verdict).toEqual(item.verdict);
      // toStrictEqual: a field that was absent stays absent (undefined), not null.
      expect(attempt).toStrictEqual({ status: undefined, error: undefined, ...sentAttempt });
      if (sent === undefined) expect(response).toBeUndefined();
      else expect(Buffer.from(response!).equals(Buffer.from(sent))).toBe(true);
    }
  });
});
