/**
 * Child processes of the benchmark: every server, receiver and load generator runs in its own
 * process, so that what is measured competes for the two cores the way it would in production
 * (and a load generator never shares an event loop with the server it loads).
 *
 * Every child is registered here until it exits, and `killAll` (installed on exit and on signals
 * by `installExitHooks`) SIGKILLs whatever is left, so that an error, a watchdog or Ctrl-C never
 * leaves a gateway or a load generator running on the machine.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: children run from here so that `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI (`npm run bench` builds it first); `snapshotBuild` points it at a copy. */
let cli = join(ROOT, 'dist', 'cli', 'main.js');

/** Most output kept per child, for error messages (the rest is only streamed to line listeners). */
const TAIL_CHARS = 16_384;

/** A running child process and its output. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code, or the signal name, once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The last few KiB of stdout and stderr. */
  tail(): string;
  /** Calls `listener` with every complete line of stdout and stderr from now on; returns an unsubscribe. */
  onLine(listener: (line: string) => void): () => void;
  /** Resolves with the first line from now on that satisfies `match`; rejects on exit or timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();

/** The case a piece of code runs for: once abandoned by the watchdog, it may start no more children. */
const scope = new AsyncLocalStorage<{ abandoned: boolean }>();

/**
 * Runs `work` in its own scope; `abandon()` makes every later spawn from inside it throw. Without
 * this, a case given up by the watchdog would carry on in the background and start children
 * while the next case measures.
 */
export function scoped<T>(work: () => Promise<T>): { result: Promise<T>; abandon(): void } {
  const state = { abandoned: false };
  return { result: scope.run(state, work), abandon: () => (state.abandoned = true) };
}

/** Starts `node ...args` (a script and its arguments) from the repository root. */
export function spawnNode(name: string, args: string[], env: Record<string, string> = {}): Child {
  if (scope.getStore()?.abandoned) throw new Error(`${name}: not started, its case was abandoned`);
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn node ${args.join(' ')}`);
  let tail = '';
  const listeners = new Set<(line: string) => void>();
  // stdout and stderr are read line by line, always: a child whose pipe is not drained blocks on write.
  const reader = () => {
    let partial = '';
    return (text: string) => {
      tail = (tail + text).slice(-TAIL_CHARS);
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) for (const listener of listeners) listener(line);
    };
  };
  // As strings: the decoder keeps a multi-byte character split across chunks whole.
  proc.stdout!.setEncoding('utf8').on('data', reader());
  proc.stderr!.setEncoding('utf8').on('data', reader());
  const exited = once(proc, 'exit').then(([code, signal]) => (code ?? signal) as number | string);

  const child: Child = {
    name,
    process: proc,
    pid: proc.pid,
    exited,
    tail: () => tail,
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForLine(match, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (error: Error | undefined, line?: string) => {
          clearTimeout(timer);
          off();
          if (error) reject(error);
          else resolve(line!);
        };
        const off = child.onLine((line) => {
          if (match(line)) finish(undefined, line);
        });
        timer = setTimeout(
          () => finish(new Error(`${name}: no expected output within ${timeoutMs} ms\n${tail}`)),
          timeoutMs,
        );
        void exited.then((code) => finish(new Error(`${name} exited (${code}) before the expected output\n${tail}`)));
      });
    },
    async stop(graceMs = 5_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

/** Starts a TypeScript worker under test/bench/workers (run through tsx's loader, no build step). */
export function spawnWorker(
  name: string,
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Child {
  const path = fileURLToPath(new URL(`./workers/${script}`, import.meta.url));
  return spawnNode(name, ['--import', 'tsx', path, ...args], env);
}

/** Starts `node dist/cli.js ...args` (or the snapshot's). */
export function spawnCli(name: string, args: string[], env: Record<string, string> = {}, from?: string): Child {
  return spawnNode(name, [from ? join(from, 'dist', 'cli', 'main.js') : cli, ...args], env);
}

/**
 * Copies the build (dist/, migrations/, package.json) to a temporary directory and runs every
 * later `spawnCli` from there. A bench run takes minutes, and anything else on the machine that
 * rebuilds dist/ meanwhile (`npm test` does) would otherwise hand a gateway starting mid-rebuild a
 * half-written build. node_modules is linked, not copied: imports resolve by walking up from
 * dist/. Returns a function that deletes the copy.
 */
export function snapshotBuild(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-build-'));
  for (const entry of ['dist', 'migrations', 'package.json'])
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  cli = join(dir, 'dist', 'cli', 'main.js');
  return () => rmSync(dir, { recursive: true, force: true });
}

/**
 * The port in a "listening on" log line: pino lines of the gateway (`port` field) and of the sink
 * (`url` field), and the bench workers' own lines, which use the same shape.
 */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('listening on')) return undefined;
  try {
    const entry = JSON.parse(line) as { port?: number; url?: string };
    if (typeof entry.port === 'number') return entry.port;
    if (typeof entry.url === 'string') return Number(new URL(entry.url).port);
  } catch {
    // Not a JSON log line.
  }
  return undefined;
}

/** A server child that has logged the port it listens on. */
export interface Server extends Child {
  port: number;
  /** Milliseconds from spawn to the "listening on" line: start-up time as an operator sees it. */
  startupMs: number;
}

/** Spawns a server with `start` and waits for its "listening on" line. */
export async function startServer(start: () => Child, timeoutMs = 30_000): Promise<Server> {
  const began = performance.now();
  const child = start();
  try {
    const line = await child.waitForLine((l) => listeningPort(l) !== undefined, timeoutMs);
    return Object.assign(child, { port: listeningPort(line)!, startupMs: performance.now() - began });
  } catch (error) {
    await child.stop(1_000);
    throw error;
  }
}

/**
 * A port that was free a moment ago, for a child that cannot report the one it bound (the sink
 * with its per-request logging switched off also stops logging its "listening on" line).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Stops every child still running, gently first: used at the end of each case, in `finally`. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((child) => child.stop(graceMs)));
}

/** SIGKILLs every child still running; synchronous, so it can run in an 'exit' handler. */
export function killAll(): void {
  for (const child of live) child.process.kill('SIGKILL');
}

/** Makes sure no child outlives the benchmark, however it ends (normal exit, error, Ctrl-C, SIGTERM). */
export function installExitHooks(cleanup: () => void = () => {}): void {
  process.on('exit', () => {
    killAll();
    cleanup();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      process.exit(130);
    });
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
