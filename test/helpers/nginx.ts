/**
 * A real nginx (`/usr/sbin/nginx`, Debian's nginx-light) as a rate-limited consumer: `limit_req`
 * at `rate` requests per second with a queue of `burst` (requests beyond the rate wait their turn
 * in it; past it, a plain 429 with no Retry-After). Started with its own config in a temp dir on
 * a free loopback port; `undefined` when nginx is not installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

export interface NginxLimiter {
  url: string;
  stop(): Promise<void>;
}

/** A free loopback port (closed again at once: nginx binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `return` runs before `limit_req` in nginx's phases, so the answer comes from a named location
 * reached through `try_files`, after the limit has been applied.
 */
function config(dir: string, port: number, rate: number, burst: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  limit_req_zone $server_name zone=hooks:1m rate=${rate}r/s;
  server {
    listen 127.0.0.1:${port};
    server_name sluice;
    root ${dir};
    location / {
      limit_req zone=hooks burst=${burst};
      limit_req_status 429;
      try_files /none @answer;
    }
    location @answer { return 200 "ok\\n"; }
  }
}
`;
}

/** Starts nginx as a limiter; resolves once it answers. */
export async function startNginxLimiter(options: { rate: number; burst: number }): Promise<NginxLimiter | undefined> {
  if (!existsSync(NGINX)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nginx-'));
  const port = await freePort();
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config(dir, port, options.rate, options.burst));
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', file, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}/hook`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    }
    const up = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`nginx did not answer within 10 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // The readiness probe took the limit's first token; let it come back.
  await new Promise((resolve) => setTimeout(resolve, 1000 / options.rate + 50));
  return { url, stop };
}
