/**
 * A sleep that can be cut short: `wait(ms)` resolves after `ms`, on `wake()`, or when the
 * signal aborts, whichever comes first. Background loops use it to sleep until the next due
 * time while still reacting at once to new work or to shutdown.
 *
 * A destination loop waits about once per delivery when draining, so a wait allocates no more than
 * it must: one bound `finish` for every wait, and the abort listener added once per signal rather
 * than added and removed on each wait (EventTarget listeners are costly to add and remove).
 */
/** setTimeout's largest delay: a longer one would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export class Waiter {
  private resolveCurrent: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pendingWake = false;
  /** The signal `finish` listens to (the loop's, the same for every wait). */
  private watched: AbortSignal | undefined;

  /** Ends the current wait, if any. */
  private readonly finish = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const resolve = this.resolveCurrent;
    this.resolveCurrent = undefined;
    resolve?.();
  };

  /** Resolves after `ms`, on `wake()`, or on abort. A `wake()` that came while nobody waited is not lost. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    // A wait still open (not how the loops use it) ends now: ending early is always safe for a loop.
    this.finish();
    if (this.pendingWake || signal?.aborted) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    if (signal !== this.watched) {
      this.watched?.removeEventListener('abort', this.finish);
      signal?.addEventListener('abort', this.finish, { once: true });
      this.watched = signal;
    }
    return new Promise((resolve) => {
      this.resolveCurrent = resolve;
      this.timer = setTimeout(this.finish, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    });
  }

  /** Ends the current wait, or makes the next one return at once. */
  wake(): void {
    if (this.resolveCurrent) this.finish();
    else this.pendingWake = true;
  }
}
