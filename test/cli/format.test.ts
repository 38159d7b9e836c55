/** The `sluice status` table says why a destination is held, under the table. */
import { describe, expect, it } from 'vitest';
import { formatDestinations } from '../../src/cli/admin-format.js';

const row = {
  name: 'crm',
  state: 'running',
  pending: 3,
  in_flight: 1,
  retrying: 0,
  dead: 0,
  delivered_last_hour: 10,
  oldest_pending_age_seconds: 5,
  rate_per_second: 1,
  eta_seconds: 4,
  held_until: null,
  held_by: null,
} as const;

describe('sluice status: holds', () => {
  it('prints no hold line for a destination that is not held', () => {
    expect(formatDestinations([row])).not.toMatch(/held/);
  });

  it("names the consumer's Retry-After", () => {
    const out = formatDestinations([{ ...row, held_until: '2026-11-28T21:00:00.000Z', held_by: 'retry_after' }]);
    expect(out).toContain("crm: held by the consumer's Retry-After until 2026-11-28T21:00:00.000Z");
  });

  it('names a consumer that does not answer, and the probing', () => {
    const out = formatDestinations([{ ...row, held_until: '2026-11-28T21:00:00.000Z', held_by: 'unreachable' }]);
    expect(out).toContain(
      'crm: the consumer is not answering; held until 2026-11-28T21:00:00.000Z, then probed one request at a time',
    );
  });
});
