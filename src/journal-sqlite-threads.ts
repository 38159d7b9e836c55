/**
 * Starting the SQLite journal's threads (the writer and the reader), how an outcome crosses between
 * threads, and the main thread's side of the reader: one request, one answer, started on first use
 * and again after a crash.
 */
import { Worker } from 'node:worker_threads';
import { JournalUnavailableError, SluiceError } from './errors.js';
import type { ReadOp, ReaderData } from './journal-sqlite-reader.js';

/**
 * The built package runs a thread's compiled .js directly; running from TypeScript sources
 * (vitest), the thread first registers tsx's loader so it can import the .ts.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Starts the thread whose module is `src/<name>.ts` (or `dist/<name>.js`). */
export function spawnThread(name: string, data: unknown): Worker {
  const url = new URL(FROM_SOURCE ? `./${name}.ts` : `./${name}.js`, import.meta.url);
  if (!FROM_SOURCE) return new Worker(url, { workerData: data });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

/** One request's outcome, as sent back by a thread; errors travel as plain data (class instances do not survive cloning). */
export type Result = { ok: true; value: unknown } | { ok: false; error: { name: string; code?: string; message: string } };

/** The `Result` of a request that failed with `error` (the thread's side of `toError`). */
export function errorResult(error: unknown): Result {
  const e = error as Error & { code?: string };
  return { ok: false, error: { name: e.name, code: e.code, message: e.message } };
}

/** Turns an error that crossed threads as plain data back into one of ours. */
export function toError(e: { name: string; code?: string; message: string }): Error {
  if (e.code === 'JOURNAL_UNAVAILABLE') return new JournalUnavailableError(e.message);
  return new SluiceError(e.code ?? 'JOURNAL_ERROR', e.message);
}

interface PendingRead {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The main thread's handle on the reader thread (journal-sqlite-reader.ts). */
export class ReadThread {
  /** The running thread and its unanswered reads; each thread has its own. */
  private current: { worker: Worker; pending: Map<number, PendingRead> } | undefined;
  private nextId = 0;

  constructor(private readonly data: ReaderData) {}

  /** Runs `read` on the reader thread. */
  run(read: ReadOp): Promise<unknown> {
    const { worker, pending } = this.current ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A read in progress keeps the process alive, an idle reader does not.
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, read });
    });
  }

  /** Closes the reader's connection and ends the thread; reads still unanswered fail. */
  async close(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    const exited = new Promise<void>((resolve) => current.worker.once('exit', () => resolve()));
    current.worker.postMessage({ close: true });
    await exited;
  }

  private start(): { worker: Worker; pending: Map<number, PendingRead> } {
    const worker = spawnThread('journal-sqlite-reader', this.data);
    const pending = new Map<number, PendingRead>();
    const current = { worker, pending };
    worker.on('message', (message: { id: number; result: Result }) => {
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      if (pending.size === 0) worker.unref();
      if (message.result.ok) p.resolve(message.result.value);
      else p.reject(toError(message.result.error));
    });
    // A reader that dies fails its own unanswered reads (not its successor's: its 'exit' can come
    // after the next read has started a new thread); the next read starts a new one.
    const failAll = (cause: unknown) => {
      if (this.current === current) this.current = undefined;
      const error = new JournalUnavailableError('journal reader stopped', { cause });
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`reader thread exited with code ${code}`)));
    worker.unref();
    this.current = current;
    return current;
  }
}
