/**
 * Signature primitives and the wire formats of the senders Sluice verifies and re-signs (see
 * shared/reference/senders.md). Verification (verify-*.ts) and re-signing (resign.ts) both build
 * signatures here, so a format is written down once. Pure: no clock, no config, no I/O.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';

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

/** One Stripe `v1` value: hex HMAC-SHA256 over `t.body`, keyed with the whole `whsec_…` string. */
export function stripeV1(secret: string, timestamp: string, body: Uint8Array): string {
  return hmac('sha256', secret, timestamp, '.', body).toString('hex');
}

/** A whole `Stripe-Signature` value: `t=<ts>,v1=<hex>` with one `v1` per secret. */
export function stripeHeader(secrets: readonly string[], timestamp: string, body: Uint8Array): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${stripeV1(s, timestamp, body)}`)].join(',');
}

/** Slack's and Zoom's shared scheme: `v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`. */
export function v0Signature(secret: string, timestamp: string, body: Uint8Array): string {
  return `v0=${hmac('sha256', secret, `v0:${timestamp}:`, body).toString('hex')}`;
}

/** The key of a Standard Webhooks secret: the base64 after `whsec_`, decoded. */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/** One Standard Webhooks signature (without `v1,`): base64 HMAC-SHA256 over `id.ts.body`. */
export function standardWebhooksV1(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): string {
  return hmac('sha256', key, `${id}.${timestamp}.`, body).toString('base64');
}

/** A whole `webhook-signature` value: `v1,<base64>` per key, space-separated. */
export function standardWebhooksHeader(
  keys: readonly Uint8Array[],
  id: string,
  timestamp: string,
  body: Uint8Array,
): string {
  return keys.map((k) => `v1,${standardWebhooksV1(k, id, timestamp, body)}`).join(' ');
}

/** Zoom's `endpoint.url_validation` answer: hex HMAC-SHA256 of the plain token. */
export function zoomEncryptedToken(secret: string, plainToken: string): string {
  return hmac('sha256', secret, plainToken).toString('hex');
}
