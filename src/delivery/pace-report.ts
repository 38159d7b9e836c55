/**
 * Tells what an adaptive destination's pacer learned: every change goes out as `destination:pace`
 * (metrics keep their gauges with it); a move by more than a quarter since the last one that did
 * is flagged `notable` (the log subscribes to those) and kept in the journal (`Journal.setPace`),
 * so that a restart starts from the pace the consumer could take instead of bursting at the ceilings.
 */
import type { GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import type { PaceStatus } from './pacing/pacer.js';

/** A move by more than this share of the last notable pace is notable. */
const NOTABLE_SHARE = 0.25;

interface Pace {
  rate: number | undefined;
  concurrency: number;
}

/** The pace reports of one destination; see the module comment. */
export class PaceReport {
  /** The pace last reported as notable (or the one the pacer started at). */
  private lastNotable: Pace | undefined;
  private lastSaved: Pace | undefined;

  constructor(
    private readonly destination: string,
    private readonly journal: Journal,
    private readonly events: GatewayEvents,
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {}

  /** The pacer's pace changed (`previous`: before the change). */
  changed(status: PaceStatus, previous: Pace): void {
    this.lastNotable ??= previous;
    const notable = moved(this.lastNotable, status);
    if (notable) this.lastNotable = { rate: status.rate, concurrency: status.concurrency };
    this.events.emit('destination:pace', {
      destination: this.destination,
      rate: status.rate,
      concurrency: status.concurrency,
      mode: status.mode,
      signal: status.signal,
      at: status.signalAt,
      notable,
    });
    if (notable) void this.save(status);
  }

  /** Keeps the pace in the journal (at shutdown, and on notable moves); never rejects. */
  async save(pace: Pace): Promise<void> {
    const saved = this.lastSaved;
    if (saved && saved.rate === pace.rate && saved.concurrency === pace.concurrency) return;
    this.lastSaved = { rate: pace.rate, concurrency: pace.concurrency };
    const now = this.clock();
    await this.journal
      .setPace(this.destination, { rate: pace.rate, concurrency: pace.concurrency, at: now }, now)
      .catch((error: unknown) =>
        this.log.error({ err: error }, 'could not record the learned pace; a restart starts from an older one'),
      );
  }
}

/** True when rate or concurrency moved by more than `NOTABLE_SHARE` from `from`. */
function moved(from: Pace, to: Pace): boolean {
  if ((from.rate === undefined) !== (to.rate === undefined)) return true;
  const share = (a: number, b: number) => Math.abs(b - a) / Math.max(a, Number.MIN_VALUE);
  if (from.rate !== undefined && share(from.rate, to.rate!) > NOTABLE_SHARE) return true;
  return share(from.concurrency, to.concurrency) > NOTABLE_SHARE;
}
