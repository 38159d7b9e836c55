/**
 * Dashboard sign-in sessions, in memory: a random session id (the cookie) and a random CSRF token
 * per session (sent back by the page in a header on every change). A restart signs everyone out,
 * which is acceptable for an operator's page and keeps no secret on disk. The count is bounded so
 * that repeated sign-ins cannot grow memory: the oldest session goes first.
 */
import { randomBytes } from 'node:crypto';
import { safeEqual } from '../senders/signature.js';

export interface Session {
  id: string;
  csrf: string;
  expiresAt: number;
}

export interface Sessions {
  create(now?: number): Session;
  /** The live session of a cookie value; undefined when unknown or expired. */
  get(id: string | undefined, now?: number): Session | undefined;
  delete(id: string | undefined): void;
}

export function createSessions(options: { ttlMs?: number; max?: number; clock?: () => number } = {}): Sessions {
  const ttlMs = options.ttlMs ?? 12 * 3_600_000;
  const max = options.max ?? 64;
  const clock = options.clock ?? Date.now;
  // Insertion order is age order: the first key is the oldest session.
  const byId = new Map<string, Session>();
  return {
    create(now = clock()) {
      while (byId.size >= max) byId.delete(byId.keys().next().value!);
      const session = {
        id: randomBytes(32).toString('base64url'),
        csrf: randomBytes(32).toString('base64url'),
        expiresAt: now + ttlMs,
      };
      byId.set(session.id, session);
      return session;
    },
    get(id, now = clock()) {
      if (!id) return undefined;
      const session = byId.get(id);
      if (!session) return undefined;
      if (session.expiresAt <= now) {
        byId.delete(id);
        return undefined;
      }
      return session;
    },
    delete(id) {
      if (id) byId.delete(id);
    },
  };
}

/** True when `sent` (the page's X-CSRF-Token header) is the session's token, compared in constant time. */
export function csrfMatches(session: Session, sent: string | undefined): boolean {
  return sent !== undefined && safeEqual(sent, session.csrf);
}
