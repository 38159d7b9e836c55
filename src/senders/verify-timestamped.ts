/**
 * Signatures over a timestamp and the body: Stripe, Slack, Zoom and Standard Webhooks (also under
 * Svix's `svix-` header names). The signature is checked first, then the timestamp against the
 * tolerance, either way (a clock far ahead is as suspect as a replay). These are the schemes that
 * go stale in the journal; resign.ts refreshes them on delivery.
 */
import { TIMESTAMPED_TYPES, type VerifyConfig } from '../config/schema.js';
import {
  anyEqual,
  MAX_SIGNATURES,
  parseUnixSeconds,
  standardWebhooksKey,
  standardWebhooksV1,
  stripeV1,
  v0Signature,
} from './signature.js';
import type { Verifier, VerifyResult } from './verify.js';

export type TimestampedConfig = Extract<VerifyConfig, { type: (typeof TIMESTAMPED_TYPES)[number] }>;

/** Whether the type's signature carries a timestamp (and so can be re-signed). */
export function isTimestamped(config: VerifyConfig): config is TimestampedConfig {
  return (TIMESTAMPED_TYPES as readonly string[]).includes(config.type);
}

export function createTimestampedVerifier(config: TimestampedConfig): Verifier {
  switch (config.type) {
    case 'stripe':
      return stripeVerifier(config.secret, config.tolerance);
    case 'slack':
      return v0Verifier('X-Slack-Signature', 'X-Slack-Request-Timestamp', config.secret, config.tolerance);
    case 'zoom':
      return v0Verifier('x-zm-signature', 'x-zm-request-timestamp', config.secret, config.tolerance);
    case 'standard-webhooks':
      return standardWebhooksVerifier(config.secret, config.tolerance);
  }
}

/** Undefined when `timestamp` (Unix seconds) is within `toleranceMs` of `now`, else why not. */
export function staleness(timestamp: number, now: number, toleranceMs: number): string | undefined {
  const skew = now / 1000 - timestamp;
  const limit = toleranceMs / 1000;
  if (skew > limit) return `timestamp is ${Math.round(skew)} s old; the tolerance is ${limit} s`;
  if (-skew > limit) return `timestamp is ${Math.round(-skew)} s in the future; the tolerance is ${limit} s`;
  return undefined;
}

/** The stale-or-ok verdict once a signature matched. */
function fresh(timestamp: number, now: number, toleranceMs: number): VerifyResult {
  const stale = staleness(timestamp, now, toleranceMs);
  return stale === undefined ? { ok: true } : { ok: false, reason: stale };
}

/** `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`: any v1 may match; v0 is ignored. */
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

/** Slack and Zoom: `<sig header>: v0=<hex>` over `v0:<timestamp header>:<body>`. */
function v0Verifier(
  signatureHeader: string,
  timestampHeader: string,
  secrets: string[],
  toleranceMs: number,
): Verifier {
  return ({ headers, body, now }) => {
    const given = headers.get(signatureHeader);
    if (given === null) return { ok: false, reason: `missing ${signatureHeader} header` };
    const text = headers.get(timestampHeader);
    if (text === null) return { ok: false, reason: `missing ${timestampHeader} header` };
    const timestamp = parseUnixSeconds(text.trim());
    if (timestamp === undefined) return { ok: false, reason: `${timestampHeader} is not a Unix timestamp in seconds` };
    const expected = secrets.map((secret) => v0Signature(secret, text.trim(), body));
    if (!anyEqual([given.trim().toLowerCase()], expected))
      return { ok: false, reason: `${signatureHeader} does not match (changed body or wrong secret)` };
    return fresh(timestamp, now, toleranceMs);
  };
}

/**
 * Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …` over
 * `id.timestamp.body`, keyed with the base64-decoded part of `whsec_…`. Svix sends the same under
 * `svix-` names; the `webhook-` set wins when both are present. `v1a` (ed25519) is not supported.
 */
function standardWebhooksVerifier(secrets: string[], toleranceMs: number): Verifier {
  const keys = secrets.map(standardWebhooksKey);
  return ({ headers, body, now }) => {
    const family =
      headers.get('webhook-signature') !== null
        ? 'webhook'
        : headers.get('svix-signature') !== null
          ? 'svix'
          : undefined;
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
    const expected = keys.map((key) => standardWebhooksV1(key, id, text.trim(), body));
    if (!anyEqual(signatures, expected))
      return { ok: false, reason: `no v1 signature in ${family}-signature matches (changed body or wrong secret)` };
    return fresh(timestamp, now, toleranceMs);
  };
}
