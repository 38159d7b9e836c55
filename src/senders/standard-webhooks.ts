/**
 * `verify: { type: standard-webhooks }`: `webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64> …` over `id.timestamp.body`, keyed with the base64-decoded part of `whsec_…`. Svix
 * sends the same under `svix-` names; the `webhook-` set wins when both are present. `v1a`
 * (ed25519) is not supported. `webhook-id` (or `svix-id`) is the default dedupe key. A
 * destination's own `sign:` uses this format too (resign.ts).
 */
import { z } from 'zod';
import { standardWebhooksSecrets, tolerance } from '../config/fields.js';
import { defineProvider, type Verifier, type VerifyRequest } from './provider.js';
import { anyEqual, fresh, hmac, MAX_SIGNATURES, parseUnixSeconds } from './signature.js';

/** The key of a Standard Webhooks secret: the base64 after `whsec_`, decoded. */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/** One signature (without `v1,`): base64 HMAC-SHA256 over `id.ts.body`. */
function signatureV1(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): string {
  return hmac('sha256', key, `${id}.${timestamp}.`, body).toString('base64');
}

/** A whole `webhook-signature` value: `v1,<base64>` per key, space-separated. */
export function standardWebhooksHeader(
  keys: readonly Uint8Array[],
  id: string,
  timestamp: string,
  body: Uint8Array,
): string {
  return keys.map((k) => `v1,${signatureV1(k, id, timestamp, body)}`).join(' ');
}

/**
 * The header family the sender used, the one the verifier checks: `webhook-` when its signature is
 * there, else `svix-`. The dedupe key (ingest/dedupe.ts) reads the id of this family, the signed one.
 */
export function familyOf(headers: VerifyRequest['headers']): 'webhook' | 'svix' | undefined {
  if (headers.get('webhook-signature') !== null) return 'webhook';
  return headers.get('svix-signature') !== null ? 'svix' : undefined;
}

function standardWebhooksVerifier(keys: readonly Uint8Array[], toleranceMs: number): Verifier {
  return ({ headers, body, now }) => {
    const family = familyOf(headers);
    if (family === undefined) return { ok: false, reason: 'missing webhook-signature (or svix-signature) header' };
    const id = headers.get(`${family}-id`);
    if (id === null) return { ok: false, reason: `missing ${family}-id header` };
    const text = headers.get(`${family}-timestamp`);
    if (text === null) return { ok: false, reason: `missing ${family}-timestamp header` };
    const timestamp = parseUnixSeconds(text.trim());
    if (timestamp === undefined) return { ok: false, reason: `${family}-timestamp is not a Unix timestamp in seconds` };
    const entries = headers.get(`${family}-signature`)!.split(' ').filter(Boolean);
    if (entries.length > MAX_SIGNATURES)
      return { ok: false, reason: `${family}-signature lists more than ${MAX_SIGNATURES} signatures` };
    const signatures = entries.filter((e) => e.startsWith('v1,')).map((e) => e.slice(3));
    if (signatures.length === 0) {
      const why = entries.some((e) => e.startsWith('v1a,')) ? ' (v1a, ed25519, is not supported)' : '';
      return { ok: false, reason: `${family}-signature has no v1 signature${why}` };
    }
    const expected = keys.map((key) => signatureV1(key, id, text.trim(), body));
    if (!anyEqual(signatures, expected))
      return { ok: false, reason: `no v1 signature in ${family}-signature matches (changed body or wrong secret)` };
    return fresh(timestamp, now, toleranceMs);
  };
}

export const standardWebhooks = defineProvider({
  type: 'standard-webhooks',
  schema: z.strictObject({ type: z.literal('standard-webhooks'), secret: standardWebhooksSecrets, tolerance }),
  createVerifier: (config) => standardWebhooksVerifier(config.secret.map(standardWebhooksKey), config.tolerance),
  createResign: (config) => {
    const keys = config.secret.map(standardWebhooksKey);
    return ({ headers, body }, ts) => {
      // Keep the family the sender used (webhook- or svix-), as the verifier chose it.
      const family = familyOf(headers)!;
      const id = headers.get(`${family}-id`)!;
      return [
        [`${family}-timestamp`, ts],
        [`${family}-signature`, standardWebhooksHeader(keys, id, ts, body)],
      ];
    };
  },
  dedupeKey: 'header:webhook-id',
});
