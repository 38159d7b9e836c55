/** Shared pieces of the fault drills: a gateway process config, raw posting, CPU readings. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';

/** Full drills (`npm run drill`) run longer than the versions in the test suite. */
export const FULL = process.env.SLUICE_DRILL === 'full';

/** Writes a gateway config for a drill; `extra` is appended YAML (top-level keys). */
export function writeDrillConfig(
  dir: string,
  opts: {
    receiverUrl: string;
    dbPath: string;
    destination?: string;
    server?: string;
    storage?: string;
    extra?: string;
  },
): string {
  const file = join(dir, 'sluice.yaml');
  writeFileSync(
    file,
    `server: { host: 127.0.0.1, port: 0${opts.server ? `, ${opts.server}` : ''} }
admin: { port: 0 }
storage: { path: ${opts.dbPath}${opts.storage ? `, ${opts.storage}` : ''} }
log: { level: info }
destinations:
  crm: { url: ${opts.receiverUrl}/hooks${opts.destination ? `, ${opts.destination}` : ''} }
sources:
  shop: { path: /in/shop, to: crm }
${opts.extra ?? ''}`,
  );
  return file;
}

/** POSTs `{"n": n}`; resolves the status (0 when the connection failed: not acknowledged). */
export async function postN(port: number, n: number, pad = 0): Promise<{ status: number; retryAfter?: string }> {
  try {
    const body = JSON.stringify({ n, pad: 'x'.repeat(pad) });
    const res = await request(`http://127.0.0.1:${port}/in/shop`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    await res.body.dump();
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, ...(typeof retryAfter === 'string' && { retryAfter }) };
  } catch {
    return { status: 0 };
  }
}

/** Mounts a 4 MiB tmpfs at `dir`; false when this machine does not allow it. */
export function mountSmallDisk(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system) of a process so far, in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The `n` of every JSON body a receiver got (drill events are `{"n": …}`). */
export function eventNumbers(received: readonly { body: Buffer }[]): Set<number> {
  return new Set(received.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n));
}

/**
 * A free port on 127.0.0.1 below the kernel's ephemeral range, for a consumer that is down for a
 * while and then comes back on the same port. A port from the ephemeral range (what port 0 gives)
 * can be taken meanwhile as the local port of any outgoing connection on the machine, and the
 * consumer then cannot listen on it again: the full outage drill failed that way (EADDRINUSE).
 */
export async function portOutsideEphemeralRange(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const top = Math.min(low ?? 32_768, 32_768) - 1;
  for (let tries = 0; tries < 50; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (top - 10_000));
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below the ephemeral range');
}
