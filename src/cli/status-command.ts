/**
 * `sluice status` and `sluice status --watch`. The table names the admin API it asked, since an
 * operator with two gateways must know which one answered. `--watch` redraws it in place at a
 * terminal (elsewhere it prints one table after another) until Ctrl-C, and keeps going when the
 * gateway does not answer for a while (it may be restarting).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiDestination, ApiNode } from '../admin/schemas.js';
import { parseDuration } from '../config/units.js';
import { UsageError } from '../errors.js';
import { type AdminClient, ApiError } from './admin-client.js';
import { clockTime, formatDestinations } from './admin-format.js';
import { formatNodes } from './nodes-format.js';

const DEFAULT_INTERVAL_MS = 2_000;
const MIN_INTERVAL_MS = 100;

/** What `sluice status` shows: the destinations, and the live nodes when several share the journal. */
export interface StatusView {
  destinations: readonly ApiDestination[];
  /** Present when the journal is shared by several nodes (PostgreSQL). */
  nodes?: readonly ApiNode[] | undefined;
}

/** The tables, under a line naming the admin API that answered and when. */
export function formatStatus(view: StatusView, url: string, now: number): string {
  const nodes = view.nodes ? `\n${formatNodes(view.nodes, now)}` : '';
  return `gateway ${url} at ${clockTime(now)}\n\n${formatDestinations(view.destinations, now)}${nodes}`;
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

/** Asks for the view every `intervalMs` and prints it until `signal` aborts; resolves the exit code (0). */
export async function watchStatus(read: () => Promise<StatusView>, o: WatchOptions): Promise<number> {
  const clock = o.clock ?? Date.now;
  const redraw = o.isTTY === true && !o.json;
  const every = `every ${formatInterval(o.intervalMs)}, Ctrl-C to stop`;
  if (redraw) o.out(HIDE_CURSOR + CLEAR_SCREEN);
  try {
    while (!o.signal?.aborted) {
      let text: string;
      try {
        const view = await read();
        text = o.json
          ? `${JSON.stringify({ at: new Date(clock()).toISOString(), ...view })}\n`
          : `${formatStatus(view, o.url, clock())}\n${every}\n`;
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

/**
 * The destinations, and the nodes when the journal is shared. A gateway older than GET /nodes
 * answers 404 there: its status is the destinations alone.
 */
export async function readStatus(client: AdminClient): Promise<StatusView> {
  const [destinations, nodes] = await Promise.all([
    client.call('listDestinations'),
    client.call('listNodes').catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }),
  ]);
  return { destinations: destinations.destinations, ...(nodes?.shared && { nodes: nodes.nodes }) };
}
