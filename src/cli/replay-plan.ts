/**
 * `sluice replay --destination NAME --dry-run`: what a bulk replay would make pending again, read
 * through the same listing the API offers (GET /events with the replay's filters: events with a
 * delivery to that destination in that finished status, received in the time range), so that
 * nothing changes.
 */
import type { ApiEventSummary } from '../admin/schemas.js';
import type { AdminClient } from './admin-client.js';
import { printable, table } from './admin-format.js';

/** How many events the human output lists before it only counts. */
const SHOWN = 20;
/** Pages read at most (500 events each): a dry run over a huge backlog stops counting there. */
const MAX_PAGES = 200;

export interface ReplayPlan {
  would_replay: number;
  /** True when there were more than the pages read could count. */
  more: boolean;
  events: { id: string; received_at: string; source: string; request: string }[];
}

/** Walks GET /events with `query` (destination, status, since, until, limit). */
export async function replayPlan(client: AdminClient, query: URLSearchParams): Promise<ReplayPlan> {
  const events: ApiEventSummary[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q = new URLSearchParams(query);
    if (cursor !== null) q.set('cursor', cursor);
    const page = await client.call('listEvents', { query: q });
    events.push(...page.events);
    cursor = page.next_cursor;
    pages += 1;
  } while (cursor !== null && pages < MAX_PAGES);
  return {
    would_replay: events.length,
    more: cursor !== null,
    events: events.map((e) => ({
      id: e.id,
      received_at: e.received_at,
      source: e.source,
      request: `${e.method} ${e.path}`,
    })),
  };
}

export function formatReplayPlan(plan: ReplayPlan, destination: string, status: string): string {
  const count = `${plan.would_replay}${plan.more ? '+' : ''}`;
  const head = `dry run: would replay ${count} ${status} ${plan.would_replay === 1 ? 'delivery' : 'deliveries'} to ${destination}; nothing was changed\n`;
  if (plan.would_replay === 0) return head;
  const rows = plan.events.slice(0, SHOWN).map((e) => [e.id, e.received_at, e.source, printable(e.request)]);
  const rest = plan.would_replay > SHOWN ? `... and ${plan.would_replay - SHOWN}${plan.more ? '+' : ''} more\n` : '';
  return `${head}\n${table(['ID', 'RECEIVED', 'SOURCE', 'REQUEST'], rows)}${rest}`;
}
