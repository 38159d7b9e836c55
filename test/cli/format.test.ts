/** The `sluice status` table says why a destination is held, under the table. */
import { describe, expect, it } from 'vitest';
import type { ApiEvent, ApiEventPage } from '../../src/admin/schemas.js';
import {
  clockTime,
  formatDestinations,
  formatEvent,
  formatEventPage,
  formatRate,
  stateOf,
} from '../../src/cli/admin-format.js';
import { destinationRow } from '../helpers/api-rows.js';

const row = destinationRow({ ordering: 'key json:/customer_id' });

describe('sluice status: ordering', () => {
  it('shows each destination’s ordering in the last column', () => {
    const [header, line] = formatDestinations([row]).split('\n');
    expect(header).toMatch(/ORDERING$/);
    expect(line).toMatch(/ key json:\/customer_id$/);
  });
});
/** An hour before the holds below end. */
const NOW = Date.parse('2026-11-28T20:00:00.000Z');

describe('sluice status: holds', () => {
  it('prints no hold line for a destination that is not held', () => {
    expect(formatDestinations([row], NOW)).not.toMatch(/held/);
  });

  it("names the consumer's Retry-After", () => {
    const out = formatDestinations([{ ...row, held_until: '2026-11-28T21:00:00.000Z', held_by: 'retry_after' }], NOW);
    expect(out).toContain("crm: held by the consumer's Retry-After until 2026-11-28T21:00:00.000Z");
  });

  it('says held, why and until when in the STATE column; a hold that ended reads as running', () => {
    const until = Date.parse('2026-11-28T21:00:00.000Z');
    const held = { ...row, held_until: '2026-11-28T21:00:00.000Z', held_by: 'retry_after' } as const;
    expect(stateOf(held, NOW)).toBe(`held (429/503 until ${clockTime(until)})`);
    expect(stateOf({ ...held, held_by: 'unreachable' }, NOW)).toBe(`held (no answer until ${clockTime(until)})`);
    expect(stateOf(held, until + 1)).toBe('running');
    expect(stateOf({ ...held, state: 'paused' }, NOW)).toBe('paused');
    expect(formatDestinations([held], NOW).split('\n')[1]).toContain(`held (429/503 until ${clockTime(until)})`);
  });

  it('rounds rates: a tenth below 10/s, whole numbers above', () => {
    expect([0, 0.01, 0.333, 1.26, 9.96, 12.4, 1339.6].map(formatRate)).toEqual([
      '0',
      '<0.1',
      '0.3',
      '1.3',
      '10',
      '12',
      '1340',
    ]);
  });

  it('shows claimed-ahead deliveries apart from those at the consumer', () => {
    const out = formatDestinations([{ ...row, in_flight: 2, claimed: 14 }], NOW);
    const [header, line] = out.split('\n');
    const cells = (l: string | undefined) => l!.trim().split(/\s{2,}/);
    const at = (name: string) => cells(line)[cells(header).indexOf(name)];
    expect(at('IN FLIGHT')).toBe('2');
    expect(at('CLAIMED')).toBe('14');
    expect(out).toContain('CLAIMED: taken from the journal ahead of a free slot');
  });

  it('names a consumer that does not answer, and the probing', () => {
    const out = formatDestinations([{ ...row, held_until: '2026-11-28T21:00:00.000Z', held_by: 'unreachable' }], NOW);
    expect(out).toContain(
      'crm: the consumer is not answering; held until 2026-11-28T21:00:00.000Z, then probed one request at a time',
    );
  });
});

describe('sluice status: pace', () => {
  const pace = {
    adaptive: true,
    rate_per_second: 12.5,
    concurrency: 3,
    nodes: 1,
    mode: 'backing_off',
    last_signal: '429',
    last_signal_at: '2026-12-01T12:01:07.431Z',
  } as const;

  it('shows an adaptive pace with the signal that last moved it', () => {
    const out = formatDestinations([{ ...row, pace }]);
    expect(out).toMatch(/PACE/);
    expect(out).toContain('13/s ×3 adaptive: 429 at 12:01:07');
  });

  it('shows a fixed pace as configured, and an unlimited rate as such', () => {
    const fixed = { ...pace, adaptive: false, mode: null, last_signal: null, last_signal_at: null };
    expect(formatDestinations([{ ...row, pace: { ...fixed, rate_per_second: 40, concurrency: 8 } }])).toContain(
      '40/s ×8 fixed',
    );
    expect(formatDestinations([{ ...row, pace: { ...fixed, rate_per_second: null } }])).toContain('unlimited ×3 fixed');
  });

  it('says how many nodes share the pace, with several on one journal', () => {
    expect(
      formatDestinations([{ ...row, pace: { ...pace, rate_per_second: 30, concurrency: 9, nodes: 3 } }]),
    ).toContain('30/s ×9 on 3 nodes adaptive: 429 at 12:01:07');
  });
});

describe('sluice events show: stored bytes cannot drive the terminal', () => {
  const ESC = '\u001b';
  const event: ApiEvent = {
    id: '0b7c5d0e-8f7a-4c1e-9d1a-3f9e2b6c4a11',
    seq: 1,
    source: 'shop',
    method: 'POST',
    path: '/in/shop',
    query: `q=${ESC}[2J`,
    remote_addr: '127.0.0.1',
    received_at: '2026-11-28T21:00:00.000Z',
    headers: [
      ['X-Title', `${ESC}]0;owned\u0007`],
      ['Authorization', 'Basic aG9va3M6cHctMQ=='],
      ['cookie', 'sid=abc123'],
      ['X-Sig', 'sha256=deadbeef'],
    ],
    body: `{"a":1}\n\t"b"\r${ESC}[1A${ESC}[2K\u009b31m\u007f\b`,
    body_encoding: 'utf8',
    body_size: 40,
    deliveries: [
      {
        destination: 'crm',
        status: 'dead',
        attempts: 1,
        due_at: null,
        finished_at: '2026-11-28T21:00:01.000Z',
        last_error: 'HTTP 400',
        attempt_log: [
          {
            attempt: 1,
            started_at: '2026-11-28T21:00:00.500Z',
            duration_ms: 12,
            status: 400,
            error: `HTTP 400 ${ESC}[31mred`,
            response: `nope ${ESC}[?1049h`,
            response_encoding: 'utf8',
          },
        ],
      },
    ],
  };

  it('escapes control characters (ESC, BEL, CR, backspace, DEL, C1) everywhere; the body keeps \\n and \\t', () => {
    const out = formatEvent(event);
    expect(out).not.toMatch(/[^\P{Cc}\t\n]/u);
    expect(out).toContain('  X-Title: \\x1b]0;owned\\x07');
    expect(out).toContain('request   POST /in/shop?q=\\x1b[2J');
    expect(out).toContain('  {"a":1}\n  \t"b"\\x0d\\x1b[1A\\x1b[2K\\x9b31m\\x7f\\x08');
    expect(out).toContain('HTTP 400  HTTP 400 \\x1b[31mred');
    expect(out).toContain('response: nope \\x1b[?1049h');
  });

  it('shows credentials redacted, keeping the scheme; signatures as stored', () => {
    const out = formatEvent(event);
    expect(out).toContain('  Authorization: Basic [redacted]');
    expect(out).toContain('  cookie: [redacted]');
    expect(out).toContain('  X-Sig: sha256=deadbeef');
    expect(out).not.toContain('aG9va3M6cHctMQ==');
    expect(out).not.toContain('abc123');
  });

  it('escapes the request column of sluice events list', () => {
    const page = { events: [{ ...event, path: `/in/${ESC}[2J`, deliveries: [] }], next_cursor: null };
    expect(formatEventPage(page as unknown as ApiEventPage)).toContain('POST /in/\\x1b[2J');
  });
});
