import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { runCli } from '../helpers/child.js';
import { startFakeAdminApi } from '../helpers/fake-admin-api.js';
import { tempDir } from '../helpers/gateway.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  tmp?.remove();
  tmp = undefined;
});

function file(name: string, text: string): string {
  tmp ??= tempDir();
  const path = join(tmp.dir, name);
  writeFileSync(path, text);
  return path;
}

describe('sluice CLI', () => {
  it('--version prints the name and version, and the node version', async () => {
    const c = runCli(['--version']);
    expect(await c.exited).toBe(0);
    expect(c.output().trim()).toBe(`sluice ${pkg.version} (node ${process.version})`);
  });

  it('each command has its own --help', async () => {
    for (const [command, says] of [
      ['start', 'Usage: sluice start [-c FILE]'],
      ['sink', '--latency D'],
      ['status', '--watch'],
      ['replay', '--dry-run'],
    ] as const) {
      const c = runCli([command, '--help']);
      expect(await c.exited, command).toBe(0);
      expect(c.output(), command).toContain(says);
    }
  });

  it('refuses an option the command does not take, instead of ignoring it', async () => {
    const c = runCli(['start', '--port', '18095']);
    expect(await c.exited).toBe(2);
    expect(c.output()).toContain('start: unknown option --port\n');
    expect(c.output()).toContain('Usage: sluice start');
    const s = runCli(['status', '--latency', '1s']);
    expect(await s.exited).toBe(2);
    expect(s.output()).toContain('unknown option --latency\n');
  });

  it('without -c and without sluice.yaml, says what it looked for, where, and points at the example', async () => {
    tmp ??= tempDir();
    writeFileSync(join(tmp.dir, 'sluice.example.yaml'), '# example\n');
    const c = runCli(['start'], {}, tmp.dir);
    expect(await c.exited).toBe(1);
    expect(c.output()).toContain(`no config file: looked for ${join(tmp.dir, 'sluice.yaml')}`);
    expect(c.output()).toContain('sluice start -c sluice.example.yaml');
    expect(c.output()).toContain('cp sluice.example.yaml sluice.yaml');
  });

  it('check accepts the example config the repository ships', async () => {
    const c = runCli(['check', '-c', join(import.meta.dirname, '../../sluice.example.yaml')]);
    expect(await c.exited, c.output()).toBe(0);
  });

  it('--help prints usage naming every command', async () => {
    const c = runCli(['--help']);
    expect(await c.exited).toBe(0);
    for (const command of ['start', 'check', 'sink']) expect(c.output()).toContain(`  ${command} `);
  });

  it('exits 2 on an unknown command or option', async () => {
    const a = runCli(['frobnicate']);
    expect(await a.exited).toBe(2);
    expect(a.output()).toContain('unknown command "frobnicate"');
    const b = runCli(['check', '--nope']);
    expect(await b.exited).toBe(2);
  });

  it('check prints the resolved plan of a valid config', async () => {
    const config = file(
      'ok.yaml',
      'destinations:\n  crm: { url: "http://127.0.0.1:9000/x", rate: 5/s }\nsources:\n  shop: { path: /in/shop, to: crm }\n',
    );
    const c = runCli(['check', '-c', config]);
    expect(await c.exited).toBe(0);
    expect(c.output()).toContain(`${config}: OK`);
    expect(c.output()).toContain('/in/shop');
    expect(c.output()).toContain('5/s');
  });

  it('check exits 1 and lists every error with file, line, column and key', async () => {
    const config = file(
      'bad.yaml',
      'destinations:\n  crm:\n    url: "http://127.0.0.1:9000/x"\n    rate: fast\n    colour: red\nsources:\n  shop: { path: /in/shop, to: crm }\n',
    );
    const c = runCli(['check', '-c', config]);
    expect(await c.exited).toBe(1);
    expect(c.output()).toContain(`${config}:4:11: destinations.crm.rate:`);
    expect(c.output()).toContain(`${config}:5:5: destinations.crm.colour: unknown key`);
    expect(c.output()).toContain('2 errors in config');
  });

  it('start refuses a missing config file with a clear message', async () => {
    const c = runCli(['start', '-c', '/nonexistent/sluice.yaml']);
    expect(await c.exited).toBe(1);
    expect(c.output()).toContain('/nonexistent/sluice.yaml:1:1: cannot read config: file not found');
  });

  it('start exits 1 naming the problem when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    tmp ??= tempDir();
    const config = file(
      'taken.yaml',
      `server: { host: 127.0.0.1, port: ${port} }\nadmin: { enabled: false }\nstorage: { path: ${join(tmp.dir, 'db', 'x.db')} }\ndestinations:\n  crm: { url: "http://127.0.0.1:9/" }\nsources:\n  s: { path: /in, to: crm }\n`,
    );
    const c = runCli(['start', '-c', config]);
    expect(await c.exited).toBe(1);
    blocker.close();
    expect(c.output()).toContain(`the ingest listener cannot listen on 127.0.0.1:${port}`);
    expect(c.output()).toContain('server.port');
  });

  it('an operator command reads the token beside a relative storage.path, relative to the config file', async () => {
    tmp ??= tempDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tmp.dir, 'etc', 'journal'), { recursive: true });
    mkdirSync(join(tmp.dir, 'elsewhere'));
    writeFileSync(join(tmp.dir, 'etc', 'journal', 'admin-token'), 'token-beside-the-journal\n', { mode: 0o600 });
    writeFileSync(join(tmp.dir, 'etc', 'sluice.yaml'), 'storage: { path: ./journal/sluice.db }\n');
    const api = await startFakeAdminApi();
    const { url, seen } = api;
    try {
      const args = ['status', '--json', '-c', join(tmp.dir, 'etc', 'sluice.yaml')];
      const c = runCli(args, { SLUICE_ADMIN_URL: url, SLUICE_ADMIN_TOKEN: '' }, join(tmp.dir, 'elsewhere'));
      expect(await c.exited).toBe(0);
      expect(new Set(seen)).toEqual(new Set(['Bearer token-beside-the-journal'])); // /destinations and /nodes
    } finally {
      api.close();
    }
  });

  it('an operator command with no config reads the token a gateway made in ./data, as after npm start', async () => {
    tmp ??= tempDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tmp.dir, 'data'));
    writeFileSync(join(tmp.dir, 'data', 'admin-token'), 'token-made-by-the-gateway\n', { mode: 0o600 });
    const api = await startFakeAdminApi();
    const { url, seen } = api;
    try {
      const c = runCli(['status', '--json'], { SLUICE_ADMIN_URL: url, SLUICE_ADMIN_TOKEN: '' }, tmp.dir);
      expect(await c.exited).toBe(0);
      expect(new Set(seen)).toEqual(new Set(['Bearer token-made-by-the-gateway']));
    } finally {
      api.close();
    }
  });
});
