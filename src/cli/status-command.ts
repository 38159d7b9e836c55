/**
 * `sluice status` and `sluice status --watch`. The table names the admin API it asked, since an
 * operator with two gateways must know which one answered. `--watch` redraws it in place at a
 * terminal (elsewhere it prints one table after another) until Ctrl-C, and keeps going when the
 * gateway does not answer for a while (it may be restarting).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiDestination } from '../admin/schemas.js';
import { parseDuration } from '../config/units.js';
import { UsageError } from '../errors.js';
import { clockTime, formatDestinations } from './admin-format.js';

const DEFAULT_INTERVAL_MS = 2_000;
const MIN_INTERVAL_MS = 100;

/** The table, under a line naming the admin API that answered and when. */
export function formatStatus(rows: readonly ApiDestination[], url: string, now: number): string {
  return `gateway ${url} at ${clockTime(now)}\n\n${formatDestinations(rows, now)}`;
}

/** `--interval`: a duration with its unit, 100ms at least; 2s when not given. */
export function watchInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_INTERVAL_MS;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new UsageError(`--interval must be a duration with its unit, such as 2s or 500ms; got "${text}"`);
  if (ms < MIN_INTERVAL_MS) throw new UsageError(`--interval must be at least ${MIN_INTERVAL_MS}ms`);
  return ms;
}

export interface WatchOptions {
  url: string;
  intervalMs: number;
  json: boolean;
  out(text: string): void;
  /** Aborted by Ctrl-C: the watch ends and resolves 0. */
  signal?: AbortSignal | undefined;
  isTTY?: boolean | undefined;
  clock?: () => number;
}

// Cursor home, clear to the end of each line and of the screen: a redraw without flicker.
const HOME = '\x1b[H';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const CLEAR_SCREEN = '\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** Asks for the rows every `intervalMs` and prints them until `signal` aborts; resolves the exit code (0). */
export async function watchStatus(rows: () => Promise<readonly ApiDestination[]>, o: WatchOptions): Promise<number> {
  const clock = o.clock ?? Date.now;
  const redraw = o.isTTY === true && !o.json;
  const every = `every ${formatInterval(o.intervalMs)}, Ctrl-C to stop`;
  if (redraw) o.out(HIDE_CURSOR + CLEAR_SCREEN);
  try {
    while (!o.signal?.aborted) {
      let text: string;
      try {
        const list = await rows();
        text = o.json
          ? `${JSON.stringify({ at: new Date(clock()).toISOString(), destinations: list })}\n`
          : `${formatStatus(list, o.url, clock())}\n${every}\n`;
      } catch (error) {
        if (o.json) throw error;
        text = `gateway ${o.url} at ${clockTime(clock())}\n\n${(error as Error).message}\n(still trying ${every})\n`;
      }
      if (o.signal?.aborted) break;
      o.out(redraw ? HOME + text.replaceAll('\n', `${CLEAR_LINE}\n`) + CLEAR_BELOW : o.json ? text : `${text}\n`);
      try {
        await sleep(o.intervalMs, undefined, o.signal ? { signal: o.signal } : {});
      } catch {
        break; // aborted: Ctrl-C
      }
    }
  } finally {
    if (redraw) o.out(SHOW_CURSOR);
  }
  return 0;
}

function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
