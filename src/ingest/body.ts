/**
 * Reading request bodies within two limits: `server.max_body` per request (413), and
 * `server.max_inflight_body` across all requests being received at once (503), so that senders
 * that start bodies and stall cannot make Sluice hold memory without bound.
 */
import type { Readable } from 'node:stream';
import { BodyReadError } from '../errors.js';

/** The budget of body bytes held at once, shared by every request of a listener. */
export interface BodyBudget {
  /** A hold for one request, empty at first; release it once the request no longer needs its body. */
  open(): BodyHold;
  /** Bytes held now, across all requests. */
  held(): number;
}

/** One request's share of the budget. */
export interface BodyHold {
  /** Adds `bytes` to this request's share; false, adding nothing, when that would pass the budget. */
  take(bytes: number): boolean;
  /** Gives this request's share back; safe to call more than once. */
  release(): void;
}

export function createBodyBudget(limit: number): BodyBudget {
  let used = 0;
  return {
    open() {
      let mine = 0;
      return {
        take(bytes) {
          if (used + bytes > limit) return false;
          used += bytes;
          mine += bytes;
          return true;
        },
        release() {
          used -= mine;
          mine = 0;
        },
      };
    },
    held: () => used,
  };
}

/**
 * Reads the whole body, or answers 'too_large' as soon as it is known to exceed `maxBody`, or
 * 'over_budget' as soon as holding it would pass the budget: both at once from Content-Length (which
 * counts in full from the start, since the sender may send it all), or while a chunked body streams
 * in. Reads with stream events rather than `for await`, whose iterator costs several promises per
 * request on the thread that is the ingest limit. On 'too_large' and 'over_budget' the stream is
 * left paused, not destroyed: the answer still has to go out on its socket.
 */
export function readBody(
  stream: Readable | null,
  contentLength: string | null | undefined,
  maxBody: number,
  hold: BodyHold,
): Promise<Uint8Array | 'too_large' | 'over_budget'> {
  const declared = Number(contentLength);
  if (declared > maxBody) return Promise.resolve('too_large');
  let reserved = Number.isFinite(declared) && declared > 0 ? declared : 0;
  if (!hold.take(reserved)) return Promise.resolve('over_budget');
  if (!stream) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const stop = (outcome: 'too_large' | 'over_budget') => {
      done();
      stream.pause();
      resolve(outcome);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > maxBody) return stop('too_large');
      if (size > reserved) {
        if (!hold.take(size - reserved)) return stop('over_budget');
        reserved = size;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(joined(chunks, size));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    // Closed without 'end' or 'error' (the sender went away): the body is incomplete.
    const onClose = () => {
      done();
      reject(new BodyReadError('the request closed before its body ended'));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** The body in one buffer. */
function joined(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  // Its own buffer, not Buffer.concat's: under 4 KiB that is a view into Node's shared 8 KiB pool,
  // and handing the event to the writer thread would copy the whole pool slab with it.
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
