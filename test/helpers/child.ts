/** Runs the built `sluice` CLI (dist/cli.js) as a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Child {
  process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `node dist/cli.js ...args`. */
export function runCli(args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return { process: child, output: () => out, exited };
}

/** Starts `sluice start -c file` and resolves with its ingest port once it logs that it listens. */
export async function startGatewayProcess(configFile: string, timeoutMs = 15_000): Promise<Child & { port: number }> {
  const child = runCli(['start', '-c', configFile]);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = child.output().split('\n').find((l) => l.includes('"listening on'));
    if (line) return { ...child, port: (JSON.parse(line) as { port: number }).port };
    if (child.process.exitCode !== null || Date.now() > until) throw new Error(`gateway did not start:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
