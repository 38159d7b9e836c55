/**
 * Starting the SQLite journal's threads (the writer and the reader), and the main thread's side of
 * the reader: one request, one answer, started on first use and again after a crash.
 */
import { Worker } from 'node:worker_threads';
import { JournalUnavailableError, SluiceError } from './errors.js';
import type { ReadOp, ReaderData } from './journal-sqlite-reader.js';
import type { Result } from './journal-sqlite-worker.js';

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
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, PendingRead>();

  constructor(private readonly data: ReaderData) {}

  /** Runs `read` on the reader thread. */
  run(read: ReadOp): Promise<unknown> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A read in progress keeps the process alive, an idle reader does not.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, read });
    });
  }

  /** Closes the reader's connection and ends the thread; reads still unanswered fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    const worker = spawnThread('journal-sqlite-reader', this.data);
    worker.on('message', (message: { id: number; result: Result }) => {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.result.ok) p.resolve(message.result.value);
      else p.reject(toError(message.result.error));
    });
    // A reader that dies fails its unanswered reads; the next read starts a new one.
    const failAll = (cause: unknown) => {
      if (this.worker === worker) this.worker = undefined;
      const error = new JournalUnavailableError('journal reader stopped', { cause });
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`reader thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
