/**
 * `forwardedHeaders` against a plain reading of its rules (a Map of replacements by lower-case
 * name, a Set of the names placed), on random header lists: the consumer must get the same
 * header pairs, in the same order and spelling, whatever the implementation does to be quick.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, forwardedHeaders } from '../../src/delivery/http-client.js';
import type { HeaderPair } from '../../src/journal/port.js';
import { claimOf } from '../helpers/claim.js';

const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'sluice-attempt'];

/** The rules: dropped names go; each replaced name once, in the place of its first stored header, the last replacement given winning; the rest appended. */
function byTheRules(headers: HeaderPair[], replacements: HeaderPair[], senderOnly: ReadonlySet<string>): string[] {
  const dropped = new Set(HOP);
  for (const [name, value] of headers)
    if (name.toLowerCase() === 'connection') for (const t of value.split(',')) dropped.add(t.trim().toLowerCase());
  const replace = new Map<string, HeaderPair>();
  for (const pair of replacements) if (!dropped.has(pair[0].toLowerCase())) replace.set(pair[0].toLowerCase(), pair);
  const placed = new Set<string>();
  const out: string[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (dropped.has(lower)) continue;
    const r = replace.get(lower);
    if (!r) {
      if (!senderOnly.has(lower)) out.push(name, value);
    } else if (!placed.has(lower)) {
      out.push(name, r[1]);
      placed.add(lower);
    }
  }
  for (const [lower, [name, value]] of replace) if (!placed.has(lower)) out.push(name, value);
  return out;
}

const NAMES = [
  'X-Sig',
  'x-sig',
  'X-SIG',
  'Content-Type',
  'X-Forwarded-For',
  'x-forwarded-host',
  'Host',
  'X-Hop',
  'A',
  'b',
];
const pick = <T>(list: readonly T[], random: () => number) => list[Math.floor(random() * list.length)]!;

/** A small seeded generator, so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

describe('forwardedHeaders', () => {
  it('forwards what the rules say, on 5,000 random header lists and replacements', () => {
    const random = seeded(20261201);
    for (let n = 0; n < 5_000; n++) {
      const headers: HeaderPair[] = Array.from({ length: Math.floor(random() * 8) }, (_, i) => [
        pick(NAMES, random),
        `v${i}`,
      ]);
      if (random() < 0.2) headers.push(['Connection', `${pick(NAMES, random)}, close`]);
      const replacements: HeaderPair[] = Array.from({ length: Math.floor(random() * 5) }, (_, i) => [
        pick([...NAMES, 'connection', 'sluice-attempt'], random),
        `r${i}`,
      ]);
      const senderOnly = random() < 0.5 ? CLIENT_HEADERS : new Set<string>();
      const claim = claimOf({ source: 's', receivedAt: 0, body: '', headers });
      const got = forwardedHeaders(claim, replacements, senderOnly);
      // The three sluice- headers come last.
      expect(got.slice(0, -6)).toEqual(byTheRules(headers, replacements, senderOnly));
    }
  });
});
