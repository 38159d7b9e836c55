/**
 * LISTEN on the journal's channels, on a connection of its own, so that a write on another node
 * reaches this one at once: new or replayed deliveries wake the delivery loops, a pause or hold
 * is applied here too. Notifications are a shortcut, not the source of truth: a loop still polls
 * (its next due time), so a notification lost while the connection was down only delays work.
 * The connection is reopened after a loss, with a growing pause, until `close`.
 */
import type pg from 'pg';
import { WAKEUP_CHANNEL } from './append.js';
import { createClient } from './connection.js';
import { STATE_CHANNEL } from './maintenance.js';

/** What a notification from another node means here. */
export interface WakeupHandlers {
  /** These destinations have new due deliveries. */
  onWakeup(destinations: string[]): void;
  /** This destination's pause or hold changed. */
  onStateChange(destination: string): void;
  /** The LISTEN connection was lost (it is being reopened) or is back. */
  onListening?(listening: boolean, error?: unknown): void;
}

/** Longest pause between two attempts to reopen the LISTEN connection. */
const MAX_RETRY_MS = 2_000;

/** Listens until `close`; own notifications (same node id) are ignored, the writer already acted. */
export class WakeupListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | undefined;
  private readonly started: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly nodeId: string,
    private readonly handlers: WakeupHandlers,
  ) {
    this.started = this.connect();
  }

  /** Resolves once the first LISTEN is in place (or failed; it is then retried in the background). */
  ready(): Promise<void> {
    return this.started;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = createClient(this.url);
    this.client = client;
    client.on('notification', (message) => this.dispatch(message));
    // 'error' then 'end' on a lost connection; either schedules one reconnect.
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost || this.closed) return;
      lost = true;
      this.handlers.onListening?.(false, error);
      client.end().catch(() => {});
      this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`LISTEN ${WAKEUP_CHANNEL}; LISTEN ${STATE_CHANNEL}`);
      this.retryMs = 100;
      this.handlers.onListening?.(true);
      // Whatever was announced while nobody listened is found now, as a poll would.
      this.handlers.onWakeup([]);
    } catch (error) {
      onLost(error);
    }
  }

  private dispatch(message: pg.Notification): void {
    const payload = message.payload ?? '';
    const bar = payload.indexOf('|');
    if (bar < 0 || payload.slice(0, bar) === this.nodeId) return;
    const rest = payload.slice(bar + 1);
    if (message.channel === WAKEUP_CHANNEL) this.handlers.onWakeup(rest ? rest.split(',') : []);
    else if (message.channel === STATE_CHANNEL) this.handlers.onStateChange(rest);
  }
}
