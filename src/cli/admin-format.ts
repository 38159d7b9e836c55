/**
 * Human output of the operator commands (admin-commands.ts): plain aligned tables, no colour, numbers
 * exactly as the admin API gives them (durations shown as 4m05s, 2h03m, 3d04h). Whatever comes from
 * a sender or a consumer is printed with its control characters escaped (`printable`): a stored
 * request must not be able to move the cursor, retitle the window or hide lines on an operator's terminal.
 */
import type { ApiDestination, ApiEvent, ApiEventPage, ApiEventSummary } from '../admin/schemas.js';
import { redactCredentials } from '../senders/credentials.js';

/** Seconds → `0s`, `42s`, `4m05s`, `2h03m`, `3d04h`; null → `-`. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/** Columns padded to their widest cell; numeric columns right-aligned. */
export function table(headers: string[], rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        rightAligned.has(i) ? cell.padStart(widths[i]!) : i === cells.length - 1 ? cell : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** Local wall-clock time of the operator's terminal, `12:03:05`. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A rate for a person: `0`, `<0.1`, `0.4`, `5.3`, `12`, `1340`; more digits only say noise. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 0.05) return '<0.1';
  if (perSecond < 10) return String(Math.round(perSecond * 10) / 10);
  return String(Math.round(perSecond));
}

/**
 * The STATE column: `running`, `paused`, or why and until when nothing is sent: `held (429/503
 * until 12:03:05)` for a consumer's Retry-After, `held (no answer until 12:03:05)` before a
 * consumer that stopped answering is probed. A hold in the past by `now` reads as running.
 */
export function stateOf(d: ApiDestination, now: number): string {
  if (d.state === 'paused') return 'paused';
  if (d.held_until === null) return d.state;
  const until = Date.parse(d.held_until);
  if (!(until > now)) return d.state;
  const why = d.held_by === 'unreachable' ? 'no answer' : '429/503';
  const day = until - now >= 86_400_000 ? ` ${new Date(until).toISOString().slice(0, 10)}` : '';
  return `held (${why} until${day} ${clockTime(until)})`;
}

/** `sluice status`: one row per destination. */
export function formatDestinations(rows: readonly ApiDestination[], now: number = Date.now()): string {
  const headers = [
    'DESTINATION',
    'STATE',
    'PENDING',
    'RETRYING',
    'IN FLIGHT',
    'CLAIMED',
    'DEAD',
    'DELIVERED 1H',
    'OLDEST',
    'RATE/S',
    'ETA',
    'PACE',
    'ORDERING',
  ];
  const body = rows.map((d) => [
    d.name,
    stateOf(d, now),
    String(d.pending),
    String(d.retrying),
    String(d.in_flight),
    // An older gateway's API has no such field: its in-flight count included them.
    d.claimed === undefined ? '-' : String(d.claimed),
    String(d.dead),
    String(d.delivered_last_hour),
    formatSeconds(d.oldest_pending_age_seconds),
    formatRate(d.rate_per_second),
    formatSeconds(d.eta_seconds),
    formatPace(d.pace),
    printable(d.ordering),
  ]);
  const notes = rows
    .filter((d) => d.held_until !== null && Date.parse(d.held_until) > now)
    .map((d) =>
      d.held_by === 'unreachable'
        ? `${d.name}: the consumer is not answering; held until ${d.held_until}, then probed one request at a time\n`
        : `${d.name}: held by the consumer's Retry-After until ${d.held_until} (sluice resume ${d.name} lifts it)\n`,
    );
  const claimed = rows.some((d) => (d.claimed ?? 0) > 0)
    ? 'CLAIMED: taken from the journal ahead of a free slot (or leased by a stopped process), not sent yet\n'
    : '';
  return table(headers, body, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10])) + notes.join('') + claimed;
}

/**
 * The pace a destination is sent at now: `13/s ×3 adaptive: 429 at 12:01:07` (learned, and what
 * last moved it, time in UTC), `40/s ×8 fixed` (as configured), `-` when not known.
 */
function formatPace(pace: ApiDestination['pace']): string {
  if (!pace) return '-';
  // An older gateway's API has no `nodes`.
  const nodes = (pace.nodes ?? 1) > 1 ? ` on ${pace.nodes} nodes` : '';
  const text = `${pace.rate_per_second === null ? 'unlimited' : paceRate(pace.rate_per_second)} ×${pace.concurrency}${nodes}`;
  if (!pace.adaptive) return `${text} fixed`;
  const at = pace.last_signal_at === null ? '' : ` at ${pace.last_signal_at.slice(11, 19)}`;
  return `${text} adaptive${pace.last_signal === null ? '' : `: ${pace.last_signal}${at}`}`;
}

/** A pace's rate, rounded, in the unit that keeps it readable: `13/s`, `2.5/s`, `30/m`, `1/h`. */
function paceRate(perSecond: number): string {
  const round = (n: number) => String(n < 10 ? Math.round(n * 10) / 10 : Math.round(n));
  if (perSecond >= 1) return `${round(perSecond)}/s`;
  if (perSecond * 60 >= 1) return `${round(perSecond * 60)}/m`;
  return `${round(perSecond * 3600)}/h`;
}

/** `sluice events list`. */
export function formatEventPage(page: ApiEventPage): string {
  if (page.events.length === 0) return 'no events\n';
  const rows = page.events.map((e) => [
    e.id,
    e.received_at,
    e.source,
    printable(`${e.method} ${e.path}`),
    String(e.body_size),
    deliveries(e.deliveries),
  ]);
  const next = page.next_cursor === null ? '' : `more: --cursor ${page.next_cursor}\n`;
  return table(['ID', 'RECEIVED', 'SOURCE', 'REQUEST', 'BYTES', 'DELIVERIES'], rows, new Set([4])) + next;
}

function deliveries(list: ApiEventSummary['deliveries']): string {
  return list.map((d) => `${d.destination}:${d.status}${d.attempts > 0 ? `(${d.attempts})` : ''}`).join(' ');
}

/** `sluice events show`. */
export function formatEvent(e: ApiEvent): string {
  const out: string[] = [];
  out.push(`event     ${e.id}`);
  out.push(`source    ${e.source}`);
  out.push(`received  ${e.received_at}${e.remote_addr ? ` from ${printable(e.remote_addr)}` : ''}`);
  out.push(`request   ${printable(`${e.method} ${e.path}${e.query ? `?${e.query}` : ''}`)}`);
  out.push('', 'headers');
  // Redacted here too: an admin API of an older version sends them as stored.
  for (const [name, value] of redactCredentials(e.headers)) out.push(`  ${printable(`${name}: ${value}`)}`);
  out.push(
    '',
    e.body_encoding === 'utf8' ? `body (${e.body_size} bytes)` : `body (${e.body_size} bytes, not UTF-8: base64)`,
  );
  out.push(indent(printable(e.body, TEXT_CONTROLS)));
  out.push('', 'deliveries');
  for (const d of e.deliveries) {
    const when = d.finished_at
      ? `finished ${d.finished_at}`
      : d.due_at
        ? `${d.status === 'in_flight' ? 'lease until' : 'due'} ${d.due_at}`
        : '';
    out.push(`  ${d.destination}  ${d.status}  ${plural(d.attempts, 'attempt')}${when ? `  ${when}` : ''}`);
    for (const a of d.attempt_log) {
      const outcome = a.status === null ? 'no answer' : `HTTP ${a.status}`;
      const error = a.error ? `  ${printable(a.error)}` : '';
      out.push(`    #${a.attempt}  ${a.started_at}  ${a.duration_ms} ms  ${outcome}${error}`);
      if (a.response)
        out.push(`        response${a.response_encoding === 'base64' ? ' (base64)' : ''}: ${oneLine(a.response)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return printable(flat.length > 200 ? `${flat.slice(0, 200)}…` : flat);
}

/** Control characters (Cc: C0, DEL, C1) but tab, line feeds too: what `printable` escapes in a one-line field. */
const LINE_CONTROLS = /[^\P{Cc}\t]/gu;
/** The same but line feed, which a multi-line text (a body) keeps. */
const TEXT_CONTROLS = /[^\P{Cc}\t\n]/gu;

/**
 * `text` with control characters written as `\xHH`, so that ESC, CSI (U+009B), CR, backspace and
 * the like are shown rather than obeyed by the terminal.
 */
export function printable(text: string, controls: RegExp = LINE_CONTROLS): string {
  return text.replace(controls, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}
