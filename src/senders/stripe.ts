/**
 * `verify: { type: stripe }`: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`, each `v1`
 * a hex HMAC-SHA256 over `t.body` keyed with the whole `whsec_…` string. Any `v1` may match (Stripe
 * rolling its secret lists several); `v0` is ignored. The event id (`json:/id`) is the default dedupe key.
 */
import { z } from 'zod';
import { secrets, tolerance } from '../config/fields.js';
import { defineProvider, type Verifier } from './provider.js';
import { anyEqual, fresh, hmac, MAX_SIGNATURES, parseUnixSeconds } from './signature.js';

/** One Stripe `v1` value. */
function stripeV1(secret: string, timestamp: string, body: Uint8Array): string {
  return hmac('sha256', secret, timestamp, '.', body).toString('hex');
}

/** A whole `Stripe-Signature` value: `t=<ts>,v1=<hex>` with one `v1` per secret. */
export function stripeHeader(secrets: readonly string[], timestamp: string, body: Uint8Array): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${stripeV1(s, timestamp, body)}`)].join(',');
}

function stripeVerifier(secrets: string[], toleranceMs: number): Verifier {
  return ({ headers, body, now }) => {
    const header = headers.get('stripe-signature');
    if (header === null) return { ok: false, reason: 'missing Stripe-Signature header' };
    const times: string[] = [];
    const signatures: string[] = [];
    for (const item of header.split(',')) {
      const eq = item.indexOf('=');
      const key = item.slice(0, eq).trim();
      if (key === 't') times.push(item.slice(eq + 1).trim());
      else if (key === 'v1')
        signatures.push(
          item
            .slice(eq + 1)
            .trim()
            .toLowerCase(),
        );
    }
    const timestamp = times.length === 1 ? parseUnixSeconds(times[0]) : undefined;
    if (timestamp === undefined) return { ok: false, reason: 'Stripe-Signature needs exactly one t=<unix seconds>' };
    if (signatures.length === 0) return { ok: false, reason: 'Stripe-Signature has no v1 signature' };
    if (signatures.length > MAX_SIGNATURES)
      return { ok: false, reason: `Stripe-Signature lists more than ${MAX_SIGNATURES} signatures` };
    const expected = secrets.map((secret) => stripeV1(secret, times[0]!, body));
    if (!anyEqual(signatures, expected))
      return { ok: false, reason: 'no v1 signature in Stripe-Signature matches (changed body or wrong secret)' };
    return fresh(timestamp, now, toleranceMs);
  };
}

export const stripe = defineProvider({
  type: 'stripe',
  schema: z.strictObject({ type: z.literal('stripe'), secret: secrets, tolerance }),
  createVerifier: (config) => stripeVerifier(config.secret, config.tolerance),
  // One v1 per secret, as Stripe itself does while rolling a secret.
  createResign: (config) => (request, ts) => [['Stripe-Signature', stripeHeader(config.secret, ts, request.body)]],
  dedupeKey: 'json:/id',
});
