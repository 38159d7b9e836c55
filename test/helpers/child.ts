/** Runs the built `sluice` CLI (dist/cli.js) as a real child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { tempDir } from './gateway.js';
import type { Receiver } from './receiver.js';
import { waitUntil } from './wait.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Child {
  process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `node dist/cli.js ...args`. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Child {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    ...(cwd !== undefined && { cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { process: child, output: () => out, exited };
}

/**
 * Starts `sluice start -c file` and resolves with its ingest port once it logs that it listens, and
 * its admin API's URL when it has one.
 */
export async function startGatewayProcess(configFile: string, timeoutMs = 15_000): Promise<GatewayProcess> {
  const child = runCli(['start', '-c', configFile]);
  const listening = () =>
    child
      .output()
      .split('\n')
      .find((l) => l.includes('"listening on'));
  // Stops early when the process exits: it will never listen then.
  await waitUntil(
    () => listening() !== undefined || child.process.exitCode !== null,
    timeoutMs,
    () => `the gateway to listen:\n${child.output()}`,
  );
  const line = listening();
  if (!line) throw new Error(`gateway did not start:\n${child.output()}`);
  // The next line of the start-up summary says where the admin API is, or that it is off.
  const adminLine = () =>
    child
      .output()
      .split('\n')
      .find((l) => /"admin API o(n|ff)/.test(l));
  await waitUntil(() => adminLine() !== undefined || child.process.exitCode !== null, timeoutMs, 'the admin line');
  const admin = JSON.parse(adminLine() ?? '{}') as { url?: string };
  const adminUrl = admin.url;
  return { ...child, port: (JSON.parse(line) as { port: number }).port, ...(adminUrl && { adminUrl }) };
}

/** A gateway started by `startGatewayProcess`. */
export type GatewayProcess = Child & { port: number; adminUrl?: string };

/**
 * What one process test holds: the gateway child, a receiver, a temp dir, and any extra clean-up.
 * `processTest()` registers the afterEach that releases them, the child first (SIGKILL, and its
 * exit awaited, so nothing writes into the temp dir any more), then the receiver, the extra
 * clean-ups, the temp dir.
 */
export interface ProcessTest {
  child?: GatewayProcess | undefined;
  receiver?: Receiver | undefined;
  tmp?: ReturnType<typeof tempDir> | undefined;
  /** Run after the child and the receiver are gone, before the temp dir is removed. */
  cleanups: (() => void)[];
}

/** Per-test state of a test that runs the gateway as a child process; see `ProcessTest`. */
export function processTest(): ProcessTest {
  const state: ProcessTest = { cleanups: [] };
  afterEach(async () => {
    if (state.child) {
      state.child.process.kill('SIGKILL');
      await state.child.exited;
    }
    await state.receiver?.close();
    for (const cleanup of state.cleanups.splice(0)) cleanup();
    state.tmp?.remove();
    state.child = state.receiver = state.tmp = undefined;
  });
  return state;
}
