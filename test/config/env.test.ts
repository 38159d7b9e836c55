/**
 * `${VAR}` and `${VAR:-default}` in config values: replaced from the environment before
 * validation; an unset variable is an error at the value that uses it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { interpolateEnv } from '../../src/config/env.js';
import { type Env, loadConfig } from '../../src/config/load.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

function write(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  dirs.push(dir);
  const file = join(dir, 'sluice.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A valid config whose destination url (line 3, value at column 10) is `url`. */
function withUrl(url: string, ...rest: string[]): string[] {
  return [
    'destinations:',
    '  crm:',
    `    url: ${url}`,
    ...rest,
    'sources:',
    '  stripe:',
    '    path: /in/stripe',
    '    to: crm',
  ];
}

function issues(file: string, env: Env): ConfigIssue[] {
  try {
    loadConfig(file, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('environment variables', () => {
  it('replaces ${VAR} with its value', () => {
    const config = loadConfig(write(withUrl('${CRM_URL}')), { CRM_URL: 'https://crm.example.com/hook' });
    expect(config.destinations.crm!.url).toBe('https://crm.example.com/hook');
  });

  it('replaces several variables inside one value', () => {
    const config = loadConfig(write(withUrl('http://${HOST}:${PORT}/hook')), { HOST: 'crm.internal', PORT: '8443' });
    expect(config.destinations.crm!.url).toBe('http://crm.internal:8443/hook');
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty, the value when set', () => {
    const file = write(withUrl('http://crm.internal/', '    rate: ${CRM_RATE:-5/s}'));
    expect(loadConfig(file, {}).destinations.crm!.rate).toBe(5);
    expect(loadConfig(file, { CRM_RATE: '' }).destinations.crm!.rate).toBe(5);
    expect(loadConfig(file, { CRM_RATE: '60/m' }).destinations.crm!.rate).toBe(1);
  });

  it('reads process.env when no environment is passed', () => {
    vi.stubEnv('SLUICE_TEST_CRM_URL', 'http://from-process-env/');
    expect(loadConfig(write(withUrl('${SLUICE_TEST_CRM_URL}'))).destinations.crm!.url).toBe('http://from-process-env/');
  });

  it('reports an unset variable at its value, naming the key and the variable, and nothing else for that key', () => {
    const file = write(withUrl('${CRM_URL}'));
    expect(issues(file, {})).toEqual([
      { file, line: 3, column: 10, path: 'destinations.crm.url', message: 'environment variable CRM_URL is not set' },
    ]);
  });

  it('treats an empty variable without default as unset', () => {
    const file = write(withUrl('https://crm.example.com/hook?token=${CRM_TOKEN}'));
    expect(issues(file, { CRM_TOKEN: '' })).toEqual([
      { file, line: 3, column: 10, path: 'destinations.crm.url', message: 'environment variable CRM_TOKEN is not set' },
    ]);
  });

  it('reports every unset variable, including one in a list item, with its index in the path', () => {
    const file = write([
      'destinations:',
      '  crm:',
      '    url: ${CRM_URL}',
      'sources:',
      '  stripe:',
      '    path: /in/stripe',
      '    to:',
      '      - crm',
      '      - ${EXTRA_DEST}',
    ]);
    expect(issues(file, {})).toEqual([
      { file, line: 3, column: 10, path: 'destinations.crm.url', message: 'environment variable CRM_URL is not set' },
      { file, line: 9, column: 9, path: 'sources.stripe.to.1', message: 'environment variable EXTRA_DEST is not set' },
    ]);
  });

  it('reads an unquoted value as YAML would (port: ${PORT} is a number); quoting keeps a string', () => {
    const plain = write(['server:', '  port: ${PORT:-8080}', ...withUrl('http://crm.internal/')]);
    expect(loadConfig(plain, { PORT: '9090' }).server.port).toBe(9090);
    expect(loadConfig(plain, {}).server.port).toBe(8080);

    const quoted = write(['server:', '  port: "${PORT}"', ...withUrl('http://crm.internal/')]);
    expect(issues(quoted, { PORT: '9090' })).toEqual([
      {
        file: quoted,
        line: 2,
        column: 9,
        path: 'server.port',
        message: 'must be a number, not text',
      },
    ]);
  });

  it('inserts a value as text: it can neither add YAML structure nor expand further variables', () => {
    const file = write(['server:', '  host: ${HOST}', ...withUrl('http://crm.internal/')]);
    expect(loadConfig(file, { HOST: 'a\nport: 1' }).server).toMatchObject({ host: 'a\nport: 1', port: 8080 });
    expect(loadConfig(file, { HOST: '${OTHER}', OTHER: 'x' }).server.host).toBe('${OTHER}');
  });

  it('ignores variables in comments', () => {
    const file = write(['# set ${NOT_A_VALUE} before starting', ...withUrl('http://crm.internal/')]);
    expect(loadConfig(file, {}).destinations.crm!.url).toBe('http://crm.internal/');
  });
});

describe('interpolateEnv, shared by the config loader and the CLI', () => {
  it('replaces variables and defaults, and lists the unset ones in order, leaving them as written', () => {
    expect(interpolateEnv('http://${HOST}:${PORT:-8080}/', { HOST: 'h' })).toEqual({
      text: 'http://h:8080/',
      unset: [],
    });
    expect(interpolateEnv('${A}-${B}-${A}', { B: '' })).toEqual({ text: '${A}-${B}-${A}', unset: ['A', 'B', 'A'] });
    expect(interpolateEnv('${EMPTY:-}', {})).toEqual({ text: '', unset: [] });
    expect(interpolateEnv('$HOME ${not-a-name}', { HOME: '/root' })).toEqual({
      text: '$HOME ${not-a-name}',
      unset: [],
    });
  });
});
