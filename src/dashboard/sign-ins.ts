/**
 * Dashboard sign-in sign-ins, in memory: a random sign-in id (the cookie) and a random CSRF token
 * per sign-in (sent back by the page in a header on every change). A restart signs everyone out,
 * which is acceptable for an operator's page and keeps no secret on disk. The count is bounded so
 * that repeated sign-ins cannot grow memory: the oldest sign-in goes first.
 */
import { randomBytes } from 'node:crypto';
import { safeEqual } from '../senders/signature.js';

export interface SignIn {
  id: string;
  csrf: string;
  expiresAt: number;
}

export interface SignIns {
  create(now?: number): SignIn;
  /** The live sign-in of a cookie value; undefined when unknown or expired. */
  get(id: string | undefined, now?: number): SignIn | undefined;
  delete(id: string | undefined): void;
}

export function createSignIns(options: { ttlMs?: number; max?: number; clock?: () => number } = {}): SignIns {
  const ttlMs = options.ttlMs ?? 12 * 3_600_000;
  const max = options.max ?? 64;
  const clock = options.clock ?? Date.now;
  // Insertion order is age order: the first key is the oldest sign-in.
  const byId = new Map<string, SignIn>();
  return {
    create(now = clock()) {
      while (byId.size >= max) byId.delete(byId.keys().next().value!);
      const signIn = {
        id: randomBytes(32).toString('base64url'),
        csrf: randomBytes(32).toString('base64url'),
        expiresAt: now + ttlMs,
      };
      byId.set(signIn.id, signIn);
      return signIn;
    },
    get(id, now = clock()) {
      if (!id) return undefined;
      const signIn = byId.get(id);
      if (!signIn) return undefined;
      if (signIn.expiresAt <= now) {
        byId.delete(id);
        return undefined;
      }
      return signIn;
    },
    delete(id) {
      if (id) byId.delete(id);
    },
  };
}

/** True when `sent` (the page's X-CSRF-Token header) is the sign-in's token, compared in constant time. */
export function csrfMatches(signIn: SignIn, sent: string | undefined): boolean {
  return sent !== undefined && safeEqual(sent, signIn.csrf);
}
