/** How signer replacements change the forwarded header list (`forwardedHeaders(claim, replacements)`). */
import { describe, expect, it } from 'vitest';
import { CLIENT_HEADERS, clientHeaders, forwardedHeaders } from '../../../src/delivery/http-client.js';
import { claimOf } from '../../helpers/claim.js';

const claim = claimOf({
  source: 's',
  receivedAt: Date.UTC(2026, 0, 1),
  body: '',
  headers: [
    ['Content-Type', 'application/json'],
    ['X-Sig', 'old-1'],
    ['X-Other', 'kept'],
    ['x-sig', 'old-2'],
    ['Connection', 'x-hop'],
    ['X-Hop', 'hop'],
  ],
});
const withoutSluice = (flat: string[]) => {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) if (!flat[i]!.startsWith('sluice-')) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
};

describe('forwardedHeaders with replacements', () => {
  it('forwards the stored headers when there are none', () => {
    expect(withoutSluice(forwardedHeaders(claim))).toEqual([
      ['Content-Type', 'application/json'],
      ['X-Sig', 'old-1'],
      ['X-Other', 'kept'],
      ['x-sig', 'old-2'],
    ]);
  });

  it('replaces every header of a name by one, in the place and spelling of the first; appends new names', () => {
    expect(
      withoutSluice(
        forwardedHeaders(claim, [
          ['x-SIG', 'new'],
          ['X-New', 'added'],
        ]),
      ),
    ).toEqual([
      ['Content-Type', 'application/json'],
      ['X-Sig', 'new'],
      ['X-Other', 'kept'],
      ['X-New', 'added'],
    ]);
  });

  it('lets a later replacement of the same name win', () => {
    expect(
      withoutSluice(
        forwardedHeaders(claim, [
          ['X-Sig', 'first'],
          ['x-sig', 'second'],
        ]),
      ),
    ).toContainEqual(['X-Sig', 'second']);
  });

  it('cannot bring back a hop-by-hop header nor forge a sluice- header', () => {
    const flat = forwardedHeaders(claim, [
      ['X-Hop', 'again'],
      ['Host', 'evil'],
      ['sluice-event-id', 'forged'],
    ]);
    expect(flat.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())).not.toContain('x-hop');
    expect(flat).not.toContain('evil');
    expect(flat).not.toContain('forged');
    expect(flat.filter((n) => n === 'sluice-event-id')).toHaveLength(1);
  });
});

describe('forwardedHeaders with sender-only names (client headers)', () => {
  const sent = claimOf({
    source: 's',
    receivedAt: Date.UTC(2026, 0, 1),
    body: '',
    remoteAddr: '127.0.0.1',
    headers: [
      ['Host', 'hooks.example.com'],
      ['X-Real-IP', '6.6.6.6'],
      ['x-forwarded-for', '6.6.6.6'],
      ['X-Other', 'kept'],
      ['Forwarded', 'for=6.6.6.6'],
      ['X-Forwarded-For', '7.7.7.7'],
    ],
  });

  it('drops them, and puts what Sluice saw in the place of the first', () => {
    expect(withoutSluice(forwardedHeaders(sent, clientHeaders(sent.event), CLIENT_HEADERS))).toEqual([
      ['x-forwarded-for', '127.0.0.1'],
      ['X-Other', 'kept'],
      ['X-Forwarded-Host', 'hooks.example.com'],
    ]);
  });

  it('drops them with nothing in their place when Sluice saw no peer', () => {
    const event = { ...sent.event, remoteAddr: null };
    expect(withoutSluice(forwardedHeaders({ ...sent, event }, clientHeaders(event), CLIENT_HEADERS))).toEqual([
      ['X-Other', 'kept'],
      ['X-Forwarded-Host', 'hooks.example.com'],
    ]);
  });

  it('names an IPv4 peer of a dual-stack listener as IPv4', () => {
    expect(clientHeaders({ remoteAddr: '::ffff:10.0.0.7', headers: [] })).toEqual([['X-Forwarded-For', '10.0.0.7']]);
    expect(clientHeaders({ remoteAddr: '::1', headers: [] })).toEqual([['X-Forwarded-For', '::1']]);
  });
});
