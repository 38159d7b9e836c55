/**
 * Contract suite of the `Journal` port (src/journal/port.ts), one file per area. Every backend must
 * pass it: sqlite.test.ts hands it the SQLite backend, and another backend is handed over the same way.
 */
import { describe } from 'vitest';
import { describeAppend } from './append.js';
import { describeClaim } from './claim.js';
import { describeDedupe } from './dedupe.js';
import { describeDestinations } from './destinations.js';
import { describeFifo } from './fifo.js';
import { describeKeyed } from './keyed.js';
import { describeLifecycle } from './lifecycle.js';
import { describeListing } from './listing.js';
import { describeOutcome } from './outcome.js';
import { describeRecentSends } from './recent-sends.js';
import { describeReplay } from './replay.js';
import { describeRetention } from './retention.js';
import { describeStats } from './stats.js';
import type { JournalBackend } from './support.js';

export type { JournalBackend, JournalFeatures, OpenedJournal } from './support.js';
export { makeEvent } from './support.js';

/** Registers every area of the contract under `Journal contract: <name>`. */
export function describeJournalContract(backend: JournalBackend): void {
  describe(`Journal contract: ${backend.name}`, () => {
    describeAppend(backend);
    describeClaim(backend);
    describeOutcome(backend);
    describeFifo(backend);
    describeKeyed(backend);
    describeDestinations(backend);
    describeRecentSends(backend);
    describeStats(backend);
    describeListing(backend);
    describeDedupe(backend);
    describeReplay(backend);
    describeRetention(backend);
    describeLifecycle(backend);
  });
}
