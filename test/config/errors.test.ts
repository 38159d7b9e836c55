/**
 * Every config problem is reported as `file:line:column: key.path: message`, precisely enough
 * for an editor to jump to it, and all problems of a file come in one ConfigError.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Env, loadConfig } from '../../src/config/load.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `lines` (line N of the file is lines[N - 1]) to a fresh temp file. */
function write(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  dirs.push(dir);
  const file = join(dir, 'sluice.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function configError(file: string, env: Env = {}): ConfigError {
  try {
    loadConfig(file, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** The issues of `lines`, as `[line, column, path, message]` for compact, exact expectations. */
function issues(lines: string[]): [number, number, string, string][] {
  const file = write(lines);
  return configError(file).issues.map((issue) => {
    expect(issue.file).toBe(file);
    return [issue.line, issue.column, issue.path, issue.message];
  });
}

const source = ['sources:', '  stripe:', '    path: /in/stripe', '    to: crm'];
const destination = ['destinations:', '  crm:', '    url: http://crm.internal/hook'];

describe('config errors', () => {
  it('formats each issue as file:line:column: path: message and carries the code CONFIG_INVALID', () => {
    const file = write([...destination, '    rate: fast', ...source]);
    const error = configError(file);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      `${file}:4:11: destinations.crm.rate: "fast" is not a rate: use N/s, N/m or N/h with N > 0, e.g. 5/s`,
    );
  });

  describe('YAML syntax', () => {
    it('reports a syntax error where the parser found it, first line of its message only', () => {
      expect(issues([...destination, '    rate: 5/s: 6', ...source])).toEqual([
        [4, 11, '', 'Nested mappings are not allowed in compact mappings'],
      ]);
    });

    it('an unquoted ${VAR} in a flow map: the first error only, with the hint to quote it', () => {
      const found = issues(['server: { host: 127.0.0.1, port: ${PORT:-8080} }', ...destination, ...source]);
      expect(found).toHaveLength(1);
      expect(found[0]!.slice(0, 3)).toEqual([1, 35, '']);
      expect(found[0]![3]).toContain('quote the variable: "${PORT:-8080}"');
      expect(found[0]![3]).toMatch(/and \d+ more errors that may follow from it/);
    });

    it('reports a mis-indented key at the start of its line', () => {
      expect(issues([...destination, '   rate: 5/s', ...source])).toEqual([
        [4, 1, '', 'All mapping items must start at the same column'],
      ]);
    });

    it('reports a duplicate key at the second occurrence, with its key path', () => {
      expect(issues([...destination, '    url: http://other.internal/', ...source])).toEqual([
        [4, 5, 'destinations.crm.url', 'Map keys must be unique'],
      ]);
      expect(issues([...destination, ...source, 'sources: {}'])).toEqual([
        [8, 1, 'sources', 'Map keys must be unique'],
      ]);
    });
  });

  describe('unknown keys', () => {
    it('reports an unknown top-level key at the key', () => {
      expect(issues([...destination, ...source, 'bogus: 1'])).toEqual([[8, 1, 'bogus', 'unknown key']]);
    });

    it('suggests the key a typo was meant to be, never one the map already has', () => {
      expect(issues([...destination, ...source, 'sever: { prot: 80 }'])).toEqual([
        [8, 1, 'sever', 'unknown key; did you mean `server`?'],
      ]);
      expect(issues(['server: { prot: 80, shutdown_grase: 5s }', ...destination, ...source])).toEqual([
        [1, 11, 'server.prot', 'unknown key; did you mean `port`?'],
        [1, 21, 'server.shutdown_grase', 'unknown key; did you mean `shutdown_grace`?'],
      ]);
      expect(issues([...destination, '    retry: { max_atempts: 3 }', ...source])).toEqual([
        [4, 14, 'destinations.crm.retry.max_atempts', 'unknown key; did you mean `max_attempts`?'],
      ]);
    });

    it('reports unknown nested keys at each key, one issue per key', () => {
      expect(
        issues(['server:', '  port: 8080', '  prot: 1', ...destination, '    rtae: 5/s', '    retyr: {}', ...source]),
      ).toEqual([
        [3, 3, 'server.prot', 'unknown key'],
        [7, 5, 'destinations.crm.rtae', 'unknown key; did you mean `rate`?'],
        [8, 5, 'destinations.crm.retyr', 'unknown key; did you mean `retry`?'],
      ]);
    });
  });

  describe("zod's messages in the project's words", () => {
    it('says what to write instead', () => {
      expect(
        issues([
          'server: { port: 70000, host: 5, trust_proxy: maybe }',
          ...destination,
          '    concurrency: 0',
          '    ordering: lifo',
          ...source,
        ]),
      ).toEqual([
        [1, 17, 'server.port', 'must be at most 65535'],
        [1, 30, 'server.host', 'must be text, not a number'],
        [1, 46, 'server.trust_proxy', 'must be true or false or a number'],
        [5, 18, 'destinations.crm.concurrency', 'must be more than 0'],
        [6, 15, 'destinations.crm.ordering', 'use unordered, fifo, or { key: header:<name> | json:<JSON pointer> }'],
      ]);
    });
  });

  describe('units', () => {
    it('reports a bad duration, size and rate at the value', () => {
      expect(
        issues([
          'server:',
          '  max_body: 1 megabyte',
          ...destination,
          '    rate: 5/sec',
          '    timeout: soon',
          ...source,
        ]),
      ).toEqual([
        [2, 13, 'server.max_body', '"1 megabyte" is not a size: use a number and b, kb, mb or gb, e.g. 1mb'],
        [6, 11, 'destinations.crm.rate', '"5/sec" is not a rate: use N/s, N/m or N/h with N > 0, e.g. 5/s'],
        [7, 14, 'destinations.crm.timeout', '"soon" is not a duration: use a number and ms, s, m, h or d, e.g. 30s'],
      ]);
    });

    it('says what is wrong with a bare number where a unit is needed', () => {
      expect(
        issues(['server:', '  max_body: 1024', ...destination, '    rate: 5', '    timeout: 30', ...source]),
      ).toEqual([
        [2, 13, 'server.max_body', '"1024" is not a size: use a number and b, kb, mb or gb, e.g. 1mb'],
        [6, 11, 'destinations.crm.rate', '"5" is not a rate: use N/s, N/m or N/h with N > 0, e.g. 5/s'],
        [7, 14, 'destinations.crm.timeout', '"30" is not a duration: use a number and ms, s, m, h or d, e.g. 30s'],
      ]);
    });

    it('rejects a zero size and a zero rate', () => {
      expect(issues(['server:', '  max_body: 0mb', ...destination, '    rate: 0/s', ...source])).toEqual([
        [2, 13, 'server.max_body', '"0mb" is not a size: use a number and b, kb, mb or gb, e.g. 1mb'],
        [6, 11, 'destinations.crm.rate', '"0/s" is not a rate: use N/s, N/m or N/h with N > 0, e.g. 5/s'],
      ]);
    });
  });

  describe('missing keys', () => {
    it('reports a missing url, path or to at the map that lacks it', () => {
      expect(
        issues([
          'destinations:',
          '  crm:',
          '    rate: 5/s',
          'sources:',
          '  stripe:',
          '    to: crm',
          '  github:',
          '    path: /in/github',
        ]),
      ).toEqual([
        [3, 5, 'destinations.crm.url', 'required key is missing'],
        [6, 5, 'sources.stripe.path', 'required key is missing'],
        [8, 5, 'sources.github.to', 'required key is missing'],
      ]);
    });

    it('reports missing top-level sections at 1:1, also for an empty file', () => {
      expect(issues(destination)).toEqual([[1, 1, 'sources', 'required key is missing']]);
      expect(issues([''])).toEqual([
        [1, 1, 'destinations', 'required key is missing'],
        [1, 1, 'sources', 'required key is missing'],
      ]);
    });

    it('requires at least one destination', () => {
      expect(issues(['destinations: {}', 'sources: {}'])).toEqual([
        [1, 15, 'destinations', 'at least one destination is needed'],
      ]);
    });
  });

  describe('cross-references', () => {
    it('reports an unknown destination in `to`, at the name, for a single name and in a list', () => {
      expect(
        issues([
          ...destination,
          'sources:',
          '  stripe:',
          '    path: /in/stripe',
          '    to: crn',
          '  github:',
          '    path: /in/github',
          '    to: [crm, erp]',
        ]),
      ).toEqual([
        [7, 9, 'sources.stripe.to', 'unknown destination "crn"'],
        [10, 15, 'sources.github.to.1', 'unknown destination "erp"'],
      ]);
    });

    it('points at the right list item when `to` repeats a name before the unknown one', () => {
      expect(
        issues([...destination, 'sources:', '  stripe:', '    path: /in/stripe', '    to: [crm, crm, erp]']),
      ).toEqual([[7, 20, 'sources.stripe.to.2', 'unknown destination "erp"']]);
    });

    it('reports the second of two sources with the same path', () => {
      expect(issues([...destination, ...source, '  stripe2:', '    path: /in/stripe', '    to: crm'])).toEqual([
        [9, 11, 'sources.stripe2.path', 'same path as source "stripe"'],
      ]);
    });
  });

  describe('destination rules', () => {
    it('rejects fifo ordering with concurrency above 1, at concurrency', () => {
      expect(issues([...destination, '    ordering: fifo', '    concurrency: 4', ...source])).toEqual([
        [
          5,
          18,
          'destinations.crm.concurrency',
          'fifo ordering sends one event at a time: remove concurrency or set it to 1',
        ],
      ]);
    });

    it('names a malformed ordering key at the key itself', () => {
      expect(issues([...destination, '    ordering: { key: "json:customer_id" }', ...source])).toEqual([
        [4, 22, 'destinations.crm.ordering.key', 'use header:<name> or json:<JSON pointer>, e.g. json:/customer_id'],
      ]);
    });

    it('names an ordering that is none of the modes', () => {
      expect(issues([...destination, '    ordering: keyed', ...source])).toEqual([
        [4, 15, 'destinations.crm.ordering', 'use unordered, fifo, or { key: header:<name> | json:<JSON pointer> }'],
      ]);
    });

    it('takes keyed ordering with any concurrency: keys go in parallel', () => {
      const file = write([
        ...destination,
        '    ordering:',
        '      key: header:x-shopify-shop-domain',
        '    concurrency: 8',
        ...source,
      ]);
      expect(loadConfig(file, {}).destinations.crm).toMatchObject({
        ordering: { key: 'header:x-shopify-shop-domain' },
        concurrency: 8,
      });
    });

    it('rejects retry.initial longer than retry.max, at retry.initial', () => {
      expect(issues([...destination, '    retry:', '      initial: 2h', '      max: 1h', ...source])).toEqual([
        [5, 16, 'destinations.crm.retry.initial', 'must not be longer than retry.max'],
      ]);
    });

    it('compares retry.max with the default retry.initial, reporting at the retry section', () => {
      expect(issues([...destination, '    retry:', '      max: 500ms', ...source])).toEqual([
        [5, 7, 'destinations.crm.retry.initial', 'must not be longer than retry.max'],
      ]);
    });

    // zod runs an object's cross-field checks only once its fields are valid. For an operator
    // that is a second pass, not a wrong answer: the field error is fixed first, then the rule shows.
    it('reports cross-field rules once the fields they depend on are valid', () => {
      const broken = [...destination, '    ordering: fifo', '    concurrency: 4', '    timeout: soon', ...source];
      expect(issues(broken)).toEqual([
        [6, 14, 'destinations.crm.timeout', '"soon" is not a duration: use a number and ms, s, m, h or d, e.g. 30s'],
      ]);
      broken[5] = '    timeout: 5s';
      expect(issues(broken)).toEqual([
        [
          5,
          18,
          'destinations.crm.concurrency',
          'fifo ordering sends one event at a time: remove concurrency or set it to 1',
        ],
      ]);
    });
  });

  it('reports a file that does not exist at 1:1, with the absolute path it looked for, keeping the cause', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
    dirs.push(dir);
    const file = join(dir, 'missing.yaml');
    const error = configError(file);
    expect(error.issues).toEqual([
      { file, line: 1, column: 1, path: '', message: `cannot read config: file not found (looked for ${file})` },
    ]);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports every problem of a file in one ConfigError, sorted by position', () => {
    const file = write([
      'sources:',
      '  stripe:',
      '    path: /in/stripe',
      '    to: crm',
      '    methods: [FETCH]',
      'destinations:',
      '  crm:',
      '    url: ${CRM_URL}',
      '    rate: 5 per second',
      '    timeout: 30',
      'server:',
      '  prot: 80',
    ]);
    const expected: ConfigIssue[] = [
      {
        file,
        line: 5,
        column: 15,
        path: 'sources.stripe.methods.0',
        message: 'must be one of GET, POST, PUT, PATCH, DELETE',
      },
      { file, line: 8, column: 10, path: 'destinations.crm.url', message: 'environment variable CRM_URL is not set' },
      {
        file,
        line: 9,
        column: 11,
        path: 'destinations.crm.rate',
        message: '"5 per second" is not a rate: use N/s, N/m or N/h with N > 0, e.g. 5/s',
      },
      {
        file,
        line: 10,
        column: 14,
        path: 'destinations.crm.timeout',
        message: '"30" is not a duration: use a number and ms, s, m, h or d, e.g. 30s',
      },
      { file, line: 12, column: 3, path: 'server.prot', message: 'unknown key; did you mean `port`?' },
    ];
    expect(configError(file).issues).toEqual(expected);
  });
});

describe('admin and health check paths', () => {
  it('refuses an admin listener beyond loopback without a token, and a source on /healthz', async () => {
    const { parseConfig } = await import('../../src/config/load.js');
    const text = [
      'admin: { host: 0.0.0.0 }',
      'destinations:',
      '  crm: { url: "http://x/" }',
      'sources:',
      '  s: { path: /healthz, to: crm }',
      '',
    ].join('\n');
    let error: unknown;
    try {
      parseConfig(text, 'c.yaml', {});
    } catch (e) {
      error = e;
    }
    const messages = (error as { issues: { path: string; message: string }[] }).issues.map(
      (i) => `${i.path}: ${i.message}`,
    );
    expect(messages).toEqual([
      expect.stringMatching(/^admin\.token: needed: the admin API listens on 0\.0\.0\.0/),
      'sources.s.path: /healthz is the health check of the public listener',
    ]);
  });

  it('accepts an admin listener beyond loopback with a token, or a disabled one', async () => {
    const { parseConfig } = await import('../../src/config/load.js');
    const rest = ['destinations:', '  crm: { url: "http://x/" }', 'sources: {}', ''];
    expect(parseConfig(['admin: { host: 0.0.0.0, token: t0k3n }', ...rest].join('\n'), 'c.yaml', {}).admin.token).toBe(
      't0k3n',
    );
    expect(
      parseConfig(['admin: { host: 0.0.0.0, enabled: false }', ...rest].join('\n'), 'c.yaml', {}).admin.enabled,
    ).toBe(false);
  });
});
