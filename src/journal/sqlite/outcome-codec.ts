/**
 * An attempt's outcome (a `complete` op) as it crosses to the writer thread: one flat array, not the
 * op's four nested objects. Structured clone writes every property name of every object and
 * rebuilds each object through map transitions on the other side: for the op as objects that was
 * 4.6–5.3 µs per outcome (serialize and deserialize, 23 per message), as a flat array 1.5 µs
 * (test/bench/README.md, "Writer messages, both ways").
 */
import type { Verdict } from '../port.js';
import type { CompleteItem } from './multi-row-writes.js';
import type { WriteOp } from './store.js';

/** The verdict kinds, by their code in an encoded outcome. */
const VERDICTS = ['delivered', 'retry', 'dead'] as const;

/** A `complete` op on the wire, its absent optional fields as null. */
export type EncodedOutcome = [
  deliveryId: number,
  claimAttempt: number,
  attempt: number,
  startedAt: number,
  durationMs: number,
  status: number | null,
  error: string | null,
  response: Uint8Array | null,
  verdict: 0 | 1 | 2,
  retryAt: number | null,
];

export function encodeOutcome(item: CompleteItem): EncodedOutcome {
  const { claim, attempt, verdict } = item;
  return [
    claim.deliveryId,
    claim.attempt,
    attempt.attempt,
    attempt.startedAt,
    attempt.durationMs,
    attempt.status ?? null,
    attempt.error ?? null,
    attempt.response ?? null,
    verdict.kind === 'delivered' ? 0 : verdict.kind === 'retry' ? 1 : 2,
    verdict.kind === 'retry' ? verdict.at : null,
  ];
}

export function decodeOutcome(e: EncodedOutcome): Extract<WriteOp, { kind: 'complete' }> {
  const kind = VERDICTS[e[8]];
  const verdict: Verdict = kind === 'retry' ? { kind, at: e[9]! } : { kind };
  return {
    kind: 'complete',
    claim: { deliveryId: e[0], attempt: e[1] },
    attempt: {
      attempt: e[2],
      startedAt: e[3],
      durationMs: e[4],
      status: e[5] ?? undefined,
      error: e[6] ?? undefined,
      response: e[7] ?? undefined,
    },
    verdict,
  };
}
