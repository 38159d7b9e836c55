/**
 * A sleep that can be cut short: `wait(ms)` resolves after `ms`, on `wake()`, or when the
 * signal aborts, whichever comes first. Background loops use it to sleep until the next due
 * time while still reacting at once to new work or to shutdown.
 */
export class Waiter {
  private wakeCurrent: (() => void) | undefined;
  private pendingWake = false;

  /** Resolves after `ms`, on `wake()`, or on abort. A `wake()` that came while nobody waited is not lost. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pendingWake || signal?.aborted) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        this.wakeCurrent = undefined;
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, Math.min(ms, 2_147_483_647)));
      signal?.addEventListener('abort', finish, { once: true });
      this.wakeCurrent = finish;
    });
  }

  /** Ends the current wait, or makes the next one return at once. */
  wake(): void {
    if (this.wakeCurrent) this.wakeCurrent();
    else this.pendingWake = true;
  }
}
