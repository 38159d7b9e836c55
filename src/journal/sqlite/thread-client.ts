/**
 * The SQLite journal's threads (the writer and the reader), seen from the main thread: how one is
 * started, how a request and its outcome cross over, and what happens when a thread dies.
 */
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { JournalUnavailableError, SluiceError } from '../../errors.js';
import { bundledThread } from './thread-bundle.js';

/**
 * The built package runs a thread's compiled .js directly; running from TypeScript sources
 * (vitest), the thread runs a bundle of its .ts (thread-bundle.ts).
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Starts the thread whose module is `src/<name>.ts` (or `dist/<name>.js`). */
export function spawnThread(name: string, data: unknown): Worker {
  const url = new URL(FROM_SOURCE ? `./${name}.ts` : `./${name}.js`, import.meta.url);
  return new Worker(FROM_SOURCE ? bundledThread(url) : url, { workerData: data });
}

/**
 * Names the calling thread (Linux: at most 15 characters), so that `top -H`, `ps -L` and the
 * benchmark's per-thread CPU readings tell the journal's threads from V8's and libuv's, which are
 * all called "node". Elsewhere, or if /proc is not writable, the thread keeps its name.
 */
export function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or no /proc: only a label is lost.
  }
}

/** An error as it crosses threads: plain data (class instances do not survive cloning). */
export interface ErrorData {
  name: string;
  code?: string | undefined;
  message: string;
}

/** One request's outcome, as sent back by a thread. */
export type Result = { ok: true; value: unknown } | { ok: false; error: ErrorData };

/** `error` as plain data (the thread's side of `toError`). */
export function errorData(error: unknown): ErrorData {
  const e = error as Error & { code?: string };
  return { name: e.name, code: e.code, message: e.message };
}

/** The `Result` of a request that failed with `error`. */
export function errorResult(error: unknown): Result {
  return { ok: false, error: errorData(error) };
}

/** Turns an error that crossed threads as plain data back into one of ours. */
export function toError(e: ErrorData): Error {
  if (e.code === 'JOURNAL_UNAVAILABLE') return new JournalUnavailableError(e.message);
  return new SluiceError(e.code ?? 'JOURNAL_ERROR', e.message);
}

interface Pending<Answer> {
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

/**
 * One journal thread, answering requests: each request carries an `id`, and the thread's answer
 * carries it back, alone or among others in `{ answers }` (other messages are ignored). Started on
 * first use; a thread that dies (an uncaught error, or an exit) fails its own unanswered requests
 * as unavailable, not those of its successor (its 'exit' can come after the next request has
 * started a new thread), and the next request starts a new one.
 */
export class JournalThread<Request extends object, Answer extends object> {
  /** The running thread and its unanswered requests; each thread has its own. */
  private current: { worker: Worker; pending: Map<number, Pending<Answer>> } | undefined;
  private nextId = 0;

  /** `name`: the thread's module (see `spawnThread`); `role`: what errors call it ("writer"). */
  constructor(
    private readonly name: string,
    private readonly role: string,
    private readonly data: unknown,
  ) {}

  /**
   * Sends `request` to the thread (starting it if none runs); resolves with its answer. `transfer`:
   * buffers of the request handed over rather than copied (they are unusable here afterwards).
   */
  request(request: Request, transfer?: ArrayBuffer[]): Promise<Answer> {
    const { worker, pending } = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Starts the thread now, unless one runs. */
  start(): { worker: Worker; pending: Map<number, Pending<Answer>> } {
    if (this.current) return this.current;
    const worker = spawnThread(this.name, this.data);
    const pending = new Map<number, Pending<Answer>>();
    const current = { worker, pending };
    const settle = (answer: Answer & { id?: number }) => {
      const p = answer.id === undefined ? undefined : pending.get(answer.id);
      if (!p) return;
      pending.delete(answer.id!);
      p.resolve(answer);
    };
    // A thread may answer several requests in one message (the writer answers a turn's at once).
    worker.on('message', (message: (Answer & { id?: number }) | { answers: (Answer & { id?: number })[] }) => {
      if ('answers' in message) for (const answer of message.answers) settle(answer);
      else settle(message);
    });
    const failAll = (cause: unknown) => {
      if (this.current === current) this.current = undefined;
      const error = new JournalUnavailableError(`journal ${this.role} stopped`, { cause });
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`${this.role} thread exited with code ${code}`)));
    this.current = current;
    return current;
  }

  /** Asks the thread to close (it answers what it has taken first, if it can), and waits for it to end. */
  async close(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    const exited = new Promise<void>((resolve) => current.worker.once('exit', () => resolve()));
    current.worker.postMessage({ close: true });
    await exited;
  }
}
