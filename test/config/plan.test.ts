/**
 * `formatPlan`: the resolved config `sluice check` prints. Units come back readable, secrets
 * never reach the output, and each source gets one routing line. The output is YAML.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { formatPlan, redactUrl } from '../../src/config/plan.js';
import type { Config } from '../../src/config/schema.js';

function config(...lines: string[]): Config {
  return parseConfig(`${lines.join('\n')}\n`, 'sluice.yaml', {});
}

const minimal = config(
  'destinations:',
  '  crm:',
  '    url: http://crm.internal/hook',
  'sources:',
  '  stripe:',
  '    path: /in/stripe',
  '    to: crm',
);

/** The config part of a plan, read back as plain YAML. */
function planYaml(plan: string): any {
  return parse(plan);
}

describe('formatPlan', () => {
  it('prints the full resolved config with readable units, then the routing summary', () => {
    expect(formatPlan(minimal, 'sluice.yaml')).toBe(
      [
        '# Resolved plan for sluice.yaml: defaults filled in, secrets redacted.',
        'server:',
        '  host: 0.0.0.0',
        '  port: 8080',
        '  max_body: 1mb',
        '  shutdown_grace: 10s',
        '  headers_timeout: 10s',
        '  request_timeout: 1m',
        '  trust_proxy: false',
        '  max_connections: 1024',
        '  max_inflight_body: 64mb',
        'storage:',
        '  path: ./data/sluice.db',
        'retention:',
        '  delivered: 7d',
        '  dead: 30d',
        'log:',
        '  level: info',
        'admin:',
        '  host: 127.0.0.1',
        '  port: 8081',
        '  enabled: true',
        'destinations:',
        '  crm:',
        '    url: http://crm.internal/hook',
        '    burst: 1',
        '    concurrency: 1',
        '    timeout: 30s',
        '    ordering: unordered',
        '    retry:',
        '      max_attempts: 25',
        '      initial: 1s',
        '      max: 1h',
        '      max_age: 3d',
        'sources:',
        '  stripe:',
        '    path: /in/stripe',
        '    methods:',
        '      - POST',
        '    to:',
        '      - crm',
        '    response:',
        '      status: 202',
        '    resign: false',
        '',
        '# Routing:',
        '# POST /in/stripe → crm (no rate limit, concurrency 1, unordered)',
        '',
      ].join('\n'),
    );
  });

  it('prints set durations, sizes and rates in operator units', () => {
    const plan = planYaml(
      formatPlan(
        config(
          'server:',
          '  max_body: 512kb',
          '  shutdown_grace: 1500ms',
          'storage:',
          '  max_size: 2gb',
          'retention:',
          '  delivered: 36h',
          'destinations:',
          '  crm:',
          '    url: http://crm.internal/hook',
          '    rate: 0.5/s',
          '    timeout: 90s',
          '    retry:',
          '      max: 90m',
          'sources: {}',
        ),
        'sluice.yaml',
      ),
    );
    expect(plan.server).toEqual({
      host: '0.0.0.0',
      port: 8080,
      max_body: '512kb',
      shutdown_grace: '1500ms',
      headers_timeout: '10s',
      request_timeout: '1m',
      trust_proxy: false,
      max_connections: 1024,
      max_inflight_body: '64mb',
    });
    expect(plan.storage.max_size).toBe('2gb');
    expect(plan.retention).toEqual({ delivered: '36h', dead: '30d' });
    expect(plan.destinations.crm).toMatchObject({ rate: '30/m', timeout: '90s', retry: { max: '90m' } });
  });

  it('loads back into the same config when there is nothing to redact', () => {
    const original = config(
      'server:',
      '  port: 0',
      '  max_body: 1536b',
      'storage:',
      '  max_size: 100mb',
      'destinations:',
      '  crm:',
      '    url: http://crm.internal/hook',
      '    rate: 1000/h',
      '    burst: 10',
      '  erp:',
      '    url: http://erp.internal',
      '    ordering: fifo',
      '    retry:',
      '      initial: 250ms',
      'sources:',
      '  stripe:',
      '    path: /in/stripe',
      '    methods: [post, put]',
      '    to: [crm, erp]',
      '    response:',
      '      status: 200',
    );
    expect(parseConfig(formatPlan(original, 'sluice.yaml'), 'plan.yaml', {})).toEqual(original);
  });

  it('keeps a long value on one line, as the operator wrote it', () => {
    const path = './data/a directory whose name is long enough to pass the usual eighty column limit/sluice.db';
    const plan = formatPlan({ ...minimal, storage: { path } }, 'sluice.yaml');
    expect(plan.split('\n')).toContain(`  path: ${path}`);
  });

  it('does not change the config it prints', () => {
    const before = structuredClone(minimal);
    formatPlan(minimal, 'sluice.yaml');
    expect(minimal).toEqual(before);
  });

  it('keeps the output valid YAML whatever the file name', () => {
    expect(planYaml(formatPlan(minimal, 'odd\nname: 1.yaml'))).toEqual(planYaml(formatPlan(minimal, 'sluice.yaml')));
  });

  describe('routing summary', () => {
    it('prints one line per source: methods, path, each destination with its pace', () => {
      const plan = formatPlan(
        config(
          'destinations:',
          '  crm:',
          '    url: http://crm.internal/hook',
          '    rate: 5/s',
          '    burst: 5',
          '    concurrency: 2',
          '  erp:',
          '    url: http://erp.internal/hook',
          '    ordering: fifo',
          '  shop:',
          '    url: http://shop.internal/hook',
          '    concurrency: 4',
          '    ordering: { key: "header:x-shopify-shop-domain" }',
          'sources:',
          '  stripe:',
          '    path: /in/stripe',
          '    to: crm',
          '  github:',
          '    path: /in/github',
          '    methods: [POST, PUT]',
          '    to: [crm, erp]',
          '  shopify:',
          '    path: /in/shopify',
          '    to: shop',
        ),
        'sluice.yaml',
      );
      expect(plan.slice(plan.indexOf('# Routing:'))).toBe(
        [
          '# Routing:',
          '# POST /in/stripe → crm (5/s, burst 5, concurrency 2, unordered)',
          '# POST,PUT /in/github → crm (5/s, burst 5, concurrency 2, unordered), erp (no rate limit, concurrency 1, fifo)',
          '# POST /in/shopify → shop (no rate limit, concurrency 4, key header:x-shopify-shop-domain)',
          '',
        ].join('\n'),
      );
    });

    it('says so when there are no sources', () => {
      const plan = formatPlan(
        config('destinations:', '  crm:', '    url: http://crm.internal/hook', 'sources: {}'),
        'sluice.yaml',
      );
      expect(plan.endsWith('# Routing:\n# (no sources: nothing is received)\n')).toBe(true);
    });
  });

  describe('redaction', () => {
    function planWithUrl(url: string): string {
      return formatPlan(config('destinations:', '  crm:', `    url: "${url}"`, 'sources: {}'), 'sluice.yaml');
    }

    it('hides the password of URL userinfo, keeping the user', () => {
      const plan = planWithUrl('https://bot:hunter2@crm.example.com/hook');
      expect(planYaml(plan).destinations.crm.url).toBe('https://bot:***@crm.example.com/hook');
      expect(plan).not.toContain('hunter2');
    });

    it.each([
      'token',
      'secret',
      'key',
      'password',
      'signature',
      'sig',
      'auth',
      'access_token',
      'API_KEY',
      'X-Auth',
      'Signature',
      '%74oken',
    ])('hides the value of the query parameter %j, keeping the others byte for byte', (name) => {
      const plan = planWithUrl(`https://crm.example.com/hook?a=1%202&${name}=s3cr3t-value&flag&b=x+y`);
      expect(planYaml(plan).destinations.crm.url).toBe(`https://crm.example.com/hook?a=1%202&${name}=***&flag&b=x+y`);
      expect(plan).not.toContain('s3cr3t-value');
    });

    it('leaves a URL with nothing secret exactly as written', () => {
      expect(planYaml(planWithUrl('http://erp.internal?page=2&id=7')).destinations.crm.url).toBe(
        'http://erp.internal?page=2&id=7',
      );
    });

    it('hides a user that stands alone (a token as userinfo) or looks like a token', () => {
      expect(redactUrl('https://sk_live_abc@crm.example.com/hook')).toBe('https://***@crm.example.com/hook');
      expect(redactUrl('https://user:pass@crm/hooks')).toBe('https://user:***@crm/hooks');
      const plan = planWithUrl('https://AKIA1234567890ABCDEF:pw@crm.example.com/hook');
      expect(planYaml(plan).destinations.crm.url).toBe('https://***:***@crm.example.com/hook');
      expect(plan).not.toContain('AKIA1234567890ABCDEF');
    });

    it('hides token-like path segments (capability URLs), keeping words and short ids', () => {
      // The team and channel ids are short and not secret on their own; the last segment is the key.
      expect(redactUrl('https://hooks.slack.com/services/T00000000/B00000000/abcDEF123ghiJKL456mnoPQR')).toBe(
        'https://hooks.slack.com/services/T00000000/B00000000/***',
      );
      const plan = planWithUrl('https://user:pass@crm/hooks/aB3dE5gH7jK9mN1pQ3sT/incoming-webhooks/42');
      expect(planYaml(plan).destinations.crm.url).toBe('https://user:***@crm/hooks/***/incoming-webhooks/42');
      expect(plan).not.toContain('aB3dE5gH7jK9mN1pQ3sT');
      expect(redactUrl('https://crm/h/550e8400-e29b-41d4-a716-446655440000')).toBe('https://crm/h/***');
      expect(redactUrl('https://crm/h/AbcdefGhijklMnopQr')).toBe('https://crm/h/***');
      expect(redactUrl('https://crm/receive-stripe-webhooks/v2')).toBe('https://crm/receive-stripe-webhooks/v2');
    });

    it('hides token-like values of any query parameter', () => {
      expect(redactUrl('https://crm/hook?c=0123456789abcdef0123&page=2&state=pending-approval-queue')).toBe(
        'https://crm/hook?c=***&page=2&state=pending-approval-queue',
      );
    });

    it('redactUrl leaves text that is not a URL alone', () => {
      expect(redactUrl('./data/token=1')).toBe('./data/token=1');
      expect(redactUrl('0.0.0.0')).toBe('0.0.0.0');
    });

    it('hides values of keys named secret, token, password or verify_token at any depth', () => {
      // Sections that do not exist yet will carry such keys; the plan must hide them without changes.
      const withSecrets = {
        ...minimal,
        sources: { stripe: { ...minimal.sources.stripe!, verify_token: 'vt-123', signing_secret: 'ss-456' } },
        alerts: {
          webhook: {
            url: 'https://alerts.example.com/?token=tk-789',
            token: 'tk-000',
            password: 'pw-111',
            token_header: 'X-Token',
          },
        },
        vault: { secret: 'sec-222', secrets: ['old-333', 'new-444'], api_token: 12345 },
      } as unknown as Config;
      const plan = formatPlan(withSecrets, 'sluice.yaml');
      const yaml = planYaml(plan);
      expect(yaml.sources.stripe).toMatchObject({ verify_token: '***', signing_secret: '***' });
      expect(yaml.alerts.webhook).toEqual({
        url: 'https://alerts.example.com/?token=***',
        token: '***',
        password: '***',
        token_header: 'X-Token',
      });
      expect(yaml.vault).toEqual({ secret: '***', secrets: ['***', '***'], api_token: '***' });
      for (const leak of ['vt-123', 'ss-456', 'tk-789', 'tk-000', 'pw-111', 'sec-222', 'old-333', 'new-444', '12345']) {
        expect(plan).not.toContain(leak);
      }
    });

    it('hides the secrets of verify, handshake and sign (lists too), and prints tolerance in units', () => {
      const withSenders = config(
        'destinations:',
        '  crm:',
        '    url: http://crm.internal/hook',
        '    sign: { secret: [whsec_c2lnbi1vbmU=, whsec_c2lnbi10d28=] }',
        'sources:',
        '  stripe:',
        '    path: /in/stripe',
        '    to: crm',
        '    verify: { type: stripe, secret: [whsec_new-111, whsec_old-222], tolerance: 10m }',
        '    resign: true',
        '  meta:',
        '    path: /in/meta',
        '    to: crm',
        '    verify: { type: github, secret: app-333 }',
        '    handshake: { type: meta, verify_token: vt-444 }',
        '  basic:',
        '    path: /in/basic',
        '    to: crm',
        '    verify: { type: basic, username: hooks, password: [pw-555, pw-666] }',
        '  bearer:',
        '    path: /in/bearer',
        '    to: crm',
        '    verify: { type: bearer, token: tk-777 }',
        '    allow_ips: [10.0.0.0/8]',
      );
      const plan = formatPlan(withSenders, 'sluice.yaml');
      const yaml = planYaml(plan);
      expect(yaml.destinations.crm.sign).toEqual({ secret: ['***', '***'] });
      expect(yaml.sources.stripe.verify).toEqual({ type: 'stripe', secret: ['***', '***'], tolerance: '10m' });
      expect(yaml.sources.meta).toMatchObject({
        verify: { type: 'github', secret: ['***'] },
        handshake: { type: 'meta', verify_token: '***' },
      });
      expect(yaml.sources.basic.verify).toEqual({ type: 'basic', username: 'hooks', password: ['***', '***'] });
      expect(yaml.sources.bearer).toMatchObject({
        verify: { type: 'bearer', token: ['***'] },
        allow_ips: ['10.0.0.0/8'],
      });
      for (const leak of ['c2lnbi1vbmU', 'c2lnbi10d28', '111', '222', '333', '444', '555', '666', '777'])
        expect(plan).not.toContain(leak);
    });

    it('shows an empty secret as empty, since an unset secret is what an operator checks for', () => {
      const plan = formatPlan({ ...minimal, admin: { token: '' } } as Config, 'sluice.yaml');
      expect(planYaml(plan).admin).toEqual({ token: '' });
    });
  });
});
