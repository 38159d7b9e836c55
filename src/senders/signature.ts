/**
 * Signature primitives shared by the senders (github.ts, stripe.ts, …): HMAC, constant-time
 * comparison, Unix timestamps and the replay window. A provider's own wire format lives in its
 * file. Pure: no clock, no config, no I/O.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { VerifyResult } from './provider.js';

type Bytes = string | Uint8Array;

/** HMAC of the concatenated parts (strings as UTF-8, bytes as they are). */
export function hmac(algorithm: 'sha1' | 'sha256' | 'sha512', key: Bytes, ...parts: Bytes[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * Constant-time equality of two strings or byte strings. Both are first reduced to their SHA-256
 * digests, so `timingSafeEqual` always compares 32 bytes with 32: there is no early exit on a
 * length mismatch or a differing prefix of `expected` (a token, a signature), and unequal lengths
 * never throw. (Hashing takes time per 64-byte block, which says nothing useful about a secret.)
 */
export function safeEqual(given: Bytes, expected: Bytes): boolean {
  return timingSafeEqual(hash('sha256', given, 'buffer'), hash('sha256', expected, 'buffer'));
}

/** True when any of `given` equals any of `expected`; every pair is compared (no early exit). */
export function anyEqual(given: readonly Bytes[], expected: readonly Bytes[]): boolean {
  let found = false;
  for (const g of given) for (const e of expected) found = safeEqual(g, e) || found;
  return found;
}

/** Most signatures one header may list (rotation needs two or three); more is refused, not searched. */
export const MAX_SIGNATURES = 10;

/** A Unix timestamp in seconds, as senders write it: digits only. */
export function parseUnixSeconds(text: string | null | undefined): number | undefined {
  return text !== null && text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

/** `now` (epoch ms) as the Unix seconds senders put in headers. */
export function unixSeconds(now: number): string {
  return String(Math.floor(now / 1000));
}

/** Undefined when `timestamp` (Unix seconds) is within `toleranceMs` of `now`, else why not. */
export function staleness(timestamp: number, now: number, toleranceMs: number): string | undefined {
  const skew = now / 1000 - timestamp;
  const limit = toleranceMs / 1000;
  if (skew > limit) return `timestamp is ${Math.round(skew)} s old; the tolerance is ${limit} s`;
  if (-skew > limit) return `timestamp is ${Math.round(-skew)} s in the future; the tolerance is ${limit} s`;
  return undefined;
}

/**
 * The verdict once a timestamped signature matched: the timestamp is checked after the signature,
 * either way (a clock far ahead is as suspect as a replay).
 */
export function fresh(timestamp: number, now: number, toleranceMs: number): VerifyResult {
  const stale = staleness(timestamp, now, toleranceMs);
  return stale === undefined ? { ok: true } : { ok: false, reason: stale };
}
