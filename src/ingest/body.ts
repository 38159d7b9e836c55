/**
 * Reading request bodies within two limits: `server.max_body` per request (413), and
 * `server.max_inflight_body` across all requests being received at once (503), so that senders
 * that start bodies and stall cannot make Sluice hold memory without bound.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

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

type Env = { Bindings: Partial<HttpBindings> };

/**
 * Reads the whole body, or answers 'too_large' as soon as it is known to exceed `maxBody`, or
 * 'over_budget' as soon as holding it would pass the budget: both at once from Content-Length (which
 * counts in full from the start, since the sender may send it all), or while a chunked body streams
 * in. On the real listener the bytes come straight from Node's request stream: going through `c.req`
 * would build a web Request and a web stream for every request, a large share of ingest CPU.
 * `app.request()` has no Node stream and reads the web body the same way.
 */
export async function readBody<E extends Env>(
  c: Context<E>,
  maxBody: number,
  hold: BodyHold,
): Promise<Uint8Array | 'too_large' | 'over_budget'> {
  const incoming = c.env?.incoming;
  const declared = Number(incoming ? incoming.headers['content-length'] : c.req.header('content-length'));
  if (declared > maxBody) return 'too_large';
  let reserved = Number.isFinite(declared) && declared > 0 ? declared : 0;
  if (!hold.take(reserved)) return 'over_budget';
  const stream: AsyncIterable<Uint8Array> | null = incoming ?? c.req.raw.body;
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > maxBody) return 'too_large';
    if (size > reserved) {
      if (!hold.take(size - reserved)) return 'over_budget';
      reserved = size;
    }
    chunks.push(chunk);
  }
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
