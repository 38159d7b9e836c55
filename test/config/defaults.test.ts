/**
 * A minimal config (one destination, one source) gets every documented default, loaded from
 * a real file the way `sluice start` loads it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function load(...lines: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  dirs.push(dir);
  const file = join(dir, 'sluice.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return loadConfig(file, {});
}

const minimal = [
  'destinations:',
  '  crm:',
  '    url: http://crm.internal/hook',
  'sources:',
  '  stripe:',
  '    path: /in/stripe',
  '    to: crm',
];

describe('defaults', () => {
  it('fills in every documented default for a minimal config', () => {
    expect(load(...minimal)).toEqual({
      server: {
        host: '0.0.0.0',
        port: 8080,
        max_body: 1024 * 1024,
        shutdown_grace: 10_000,
        headers_timeout: 10_000,
        request_timeout: 60_000,
        trust_proxy: false,
        max_connections: 1024,
        max_inflight_body: 64 * 1024 * 1024,
      },
      // Relative to the config file's directory.
      storage: { path: expect.stringMatching(/sluice-config-[^/]+\/data\/sluice\.db$/) },
      retention: { delivered: 7 * 86_400_000, dead: 30 * 86_400_000 },
      log: { level: 'info' },
      admin: { host: '127.0.0.1', port: 8081, enabled: true },
      destinations: {
        crm: {
          url: 'http://crm.internal/hook',
          burst: 1,
          concurrency: 1,
          timeout: 30_000,
          ordering: 'unordered',
          retry: { max_attempts: 25, initial: 1000, max: 3_600_000, max_age: 3 * 86_400_000 },
        },
      },
      sources: {
        stripe: { path: '/in/stripe', methods: ['POST'], to: ['crm'], response: { status: 202 }, resign: false },
      },
    });
  });

  it('leaves rate and storage.max_size unset: no rate limit, no journal cap', () => {
    const config = load(...minimal);
    expect('rate' in config.destinations.crm!).toBe(false);
    expect('max_size' in config.storage).toBe(false);
  });

  it('fills the defaults of a section that is present but partial', () => {
    const config = load(
      'server:',
      '  port: 9000',
      ...minimal.slice(0, 3),
      '    retry:',
      '      max_attempts: 3',
      ...minimal.slice(3),
    );
    expect(config.server).toEqual({
      host: '0.0.0.0',
      port: 9000,
      max_body: 1024 * 1024,
      shutdown_grace: 10_000,
      headers_timeout: 10_000,
      request_timeout: 60_000,
      trust_proxy: false,
      max_connections: 1024,
      max_inflight_body: 64 * 1024 * 1024,
    });
    expect(config.destinations.crm!.retry).toEqual({
      max_attempts: 3,
      initial: 1000,
      max: 3_600_000,
      max_age: 3 * 86_400_000,
    });
  });

  it('accepts `to` as a single name and normalises it to a list', () => {
    expect(load(...minimal).sources.stripe!.to).toEqual(['crm']);
  });

  it('accepts `to` as a list (fan-out), keeping its order and dropping repeats', () => {
    const config = load(
      'destinations:',
      '  crm:',
      '    url: http://crm.internal/hook',
      '  erp:',
      '    url: http://erp.internal/hook',
      'sources:',
      '  stripe:',
      '    path: /in/stripe',
      '    to: [erp, crm, erp]',
    );
    expect(config.sources.stripe!.to).toEqual(['erp', 'crm']);
  });

  it('upper-cases methods, so `post` and `POST` are the same route', () => {
    const config = load(...minimal, '    methods: [post, Put]');
    expect(config.sources.stripe!.methods).toEqual(['POST', 'PUT']);
  });
});
