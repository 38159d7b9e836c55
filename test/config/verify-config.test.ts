/**
 * The config keys for senders: `verify`, `handshake`, `resign`, `allow_ips` on sources,
 * `sign` on destinations, `server.trust_proxy`. What they accept, their defaults, and the
 * positioned errors for what they refuse.
 */
import { describe, expect, it } from 'vitest';
import { type Env, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const head = [
  'destinations:',
  '  crm:',
  '    url: http://crm.internal/hook',
  'sources:',
  '  s:',
  '    path: /in/s',
  '    to: crm',
];

function load(extra: string[], env: Env = {}) {
  return parseConfig(`${[...head, ...extra].join('\n')}\n`, 'sluice.yaml', env);
}

/** `[line, path, message]` of each issue. */
function issues(extra: string[], env: Env = {}): [number, string, string][] {
  try {
    load(extra, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => [i.line, i.path, i.message]);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('verify', () => {
  it('turns a single secret into a list and fills tolerance (5m) for timestamped types only', () => {
    expect(load(['    verify: { type: stripe, secret: whsec_a }']).sources.s!.verify).toEqual({
      type: 'stripe',
      secret: ['whsec_a'],
      tolerance: 300_000,
    });
    expect(load(['    verify: { type: github, secret: [a, b] }']).sources.s!.verify).toEqual({
      type: 'github',
      secret: ['a', 'b'],
    });
    expect(load(['    verify: { type: slack, secret: x, tolerance: 90s }']).sources.s!.verify).toMatchObject({
      tolerance: 90_000,
    });
  });

  it('fills the generic hmac defaults', () => {
    expect(load(['    verify: { type: hmac, header: X-Sig, secret: x }']).sources.s!.verify).toEqual({
      type: 'hmac',
      header: 'X-Sig',
      secret: ['x'],
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: '',
    });
  });

  it('takes secrets from the environment', () => {
    expect(
      load(['    verify: { type: bearer, token: ["${TOKEN}", "${OLD_TOKEN}"] }'], { TOKEN: 't1', OLD_TOKEN: 't0' })
        .sources.s!.verify,
    ).toEqual({ type: 'bearer', token: ['t1', 't0'] });
  });

  it('refuses an unknown type, a missing or empty secret, and keys of other types', () => {
    expect(issues(['    verify: { type: gitlab, secret: x }'])).toEqual([
      [8, 'sources.s.verify.type', expect.stringMatching(/github.*bearer/)],
    ]);
    expect(issues(['    verify: { type: github }'])).toEqual([
      [8, 'sources.s.verify.secret', 'required key is missing'],
    ]);
    expect(issues(['    verify: { type: github, secret: "" }'])).toEqual([
      [8, 'sources.s.verify.secret', 'must not be empty'],
    ]);
    expect(issues(['    verify: { type: github, secret: x, tolerance: 5m }'])).toEqual([
      [8, 'sources.s.verify.tolerance', 'unknown key'],
    ]);
    expect(issues(['    verify: { type: basic, password: x }'])).toEqual([
      [8, 'sources.s.verify.username', 'required key is missing'],
    ]);
  });

  it('refuses an unset secret variable with its own message', () => {
    expect(issues(['    verify: { type: github, secret: "${GH_SECRET}" }'])).toEqual([
      [8, 'sources.s.verify.secret', 'environment variable GH_SECRET is not set'],
    ]);
    expect(issues(['    verify: { type: github, secret: "${GH_SECRET:-}" }'])).toEqual([
      [8, 'sources.s.verify.secret', 'must not be empty'],
    ]);
  });

  it('checks Standard Webhooks secrets are base64 (after whsec_)', () => {
    expect(issues(['    verify: { type: standard-webhooks, secret: "whsec_not base64!" }'])).toEqual([
      [8, 'sources.s.verify.secret', 'must be whsec_ followed by the key in base64'],
    ]);
  });

  it('refuses a tolerance under one second and an unknown hmac algorithm', () => {
    expect(issues(['    verify: { type: stripe, secret: x, tolerance: 500ms }'])).toEqual([
      [8, 'sources.s.verify.tolerance', expect.stringMatching(/at least 1s/)],
    ]);
    expect(issues(['    verify: { type: hmac, header: X-Sig, secret: x, algorithm: md5 }'])).toEqual([
      [8, 'sources.s.verify.algorithm', expect.any(String)],
    ]);
  });
});

describe('handshake', () => {
  it('takes a name or an object, always giving an object', () => {
    expect(load(['    handshake: graph']).sources.s!.handshake).toEqual({ type: 'graph' });
    expect(
      load(['    handshake: { type: meta, verify_token: "${META_TOKEN}" }'], { META_TOKEN: 'vt' }).sources.s!.handshake,
    ).toEqual({ type: 'meta', verify_token: 'vt' });
  });

  it('refuses meta without a verify_token, unknown names, and zoom without verify.type zoom', () => {
    expect(issues(['    handshake: meta'])).toEqual([
      [8, 'sources.s.handshake', 'use graph, dropbox, slack, zoom, or { type: meta, verify_token: ... }'],
    ]);
    expect(issues(['    handshake: twitter'])).toEqual([
      [8, 'sources.s.handshake', expect.stringMatching(/^use graph/)],
    ]);
    expect(issues(['    handshake: zoom'])).toEqual([
      [8, 'sources.s.handshake', expect.stringMatching(/needs verify.type zoom/)],
    ]);
  });
});

describe('resign', () => {
  it('defaults to false and is accepted on timestamped types', () => {
    expect(load([]).sources.s!.resign).toBe(false);
    for (const type of ['stripe', 'slack', 'zoom'])
      expect(load([`    verify: { type: ${type}, secret: x }`, '    resign: true']).sources.s!.resign).toBe(true);
  });

  it('is refused without verification or on a type without a timestamp', () => {
    expect(issues(['    resign: true'])).toEqual([
      [8, 'sources.s.resign', expect.stringMatching(/needs verify.type stripe, slack, standard-webhooks, zoom/)],
    ]);
    expect(issues(['    verify: { type: github, secret: x }', '    resign: true'])).toEqual([
      [9, 'sources.s.resign', expect.stringMatching(/no timestamp/)],
    ]);
  });
});

describe('allow_ips and trust_proxy', () => {
  it('takes addresses and CIDR blocks, IPv4 and IPv6', () => {
    expect(load(['    allow_ips: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32", "::1"]']).sources.s!.allow_ips).toHaveLength(
      4,
    );
  });

  it('refuses what is not an address or block, naming each entry', () => {
    expect(issues(['    allow_ips: [10.0.0.0/33, example.com, 10.0.0.0/8/1]'])).toEqual([
      [8, 'sources.s.allow_ips.0', 'must be an IP address or a CIDR block such as 10.0.0.0/8'],
      [8, 'sources.s.allow_ips.1', 'must be an IP address or a CIDR block such as 10.0.0.0/8'],
      [8, 'sources.s.allow_ips.2', 'must be an IP address or a CIDR block such as 10.0.0.0/8'],
    ]);
  });

  it('takes trust_proxy as a boolean or a hop count', () => {
    const server = (value: string) =>
      parseConfig(['server:', `  trust_proxy: ${value}`, ...head].join('\n'), 'sluice.yaml', {}).server.trust_proxy;
    expect(server('true')).toBe(true);
    expect(server('2')).toBe(2);
    expect(() => server('-1')).toThrow(ConfigError);
    expect(() => server('yes please')).toThrow(ConfigError);
  });
});

describe('destination sign', () => {
  it('takes a Standard Webhooks secret or a list of them', () => {
    const config = parseConfig(
      [
        'destinations:',
        '  crm:',
        '    url: http://crm.internal/hook',
        '    sign: { secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw }',
        'sources: {}',
      ].join('\n'),
      'sluice.yaml',
      {},
    );
    expect(config.destinations.crm!.sign).toEqual({ secret: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });
  });

  it('refuses a missing or malformed secret', () => {
    expect(() =>
      parseConfig(['destinations:', '  crm:', '    url: http://x/', '    sign: {}', 'sources: {}'].join('\n'), 'f', {}),
    ).toThrow(/destinations.crm.sign.secret: required key is missing/);
    expect(() =>
      parseConfig(
        ['destinations:', '  crm:', '    url: http://x/', '    sign: { secret: "a b" }', 'sources: {}'].join('\n'),
        'f',
        {},
      ),
    ).toThrow(/base64/);
  });
});
