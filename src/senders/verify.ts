/**
 * Verification of incoming requests, per source (`verify:` in the config). Each type is a small
 * pure function over the request's headers, raw body bytes and the current time; this module
 * only dispatches. Secrets never appear in a reason: reasons are logged and sent to the sender.
 *
 *   github, shopify, hmac          verify-body.ts         (HMAC of the body in one header)
 *   stripe, slack, zoom,
 *   standard-webhooks (svix-)      verify-timestamped.ts  (HMAC over timestamp + body, tolerance)
 *   basic, bearer                  verify-auth.ts         (credentials in Authorization)
 */
import type { VerifyConfig } from '../config/schema.js';
import { createAuthVerifier } from './verify-auth.js';
import { createBodyVerifier } from './verify-body.js';
import { createTimestampedVerifier } from './verify-timestamped.js';

/** What a verifier looks at. `headers` is case-insensitive; `body` is exactly the bytes received. */
export interface VerifyRequest {
  headers: Pick<Headers, 'get'>;
  body: Uint8Array;
  /** Epoch milliseconds. */
  now: number;
}

/** A verdict; `reason` says what was wrong without naming any secret. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Checks one request. Pure: same request, same time → same verdict. */
export type Verifier = (request: VerifyRequest) => VerifyResult;

/** Builds the verifier for a source's `verify:` config (secrets are prepared once, here). */
export function createVerifier(config: VerifyConfig): Verifier {
  switch (config.type) {
    case 'github':
    case 'shopify':
    case 'hmac':
      return createBodyVerifier(config);
    case 'stripe':
    case 'slack':
    case 'zoom':
    case 'standard-webhooks':
      return createTimestampedVerifier(config);
    case 'basic':
    case 'bearer':
      return createAuthVerifier(config);
  }
}

/** The `WWW-Authenticate` challenge a 401 carries for credential types; none for signatures. */
export function authenticateChallenge(config: VerifyConfig): string | undefined {
  if (config.type === 'basic') return 'Basic realm="sluice", charset="UTF-8"';
  if (config.type === 'bearer') return 'Bearer realm="sluice"';
  return undefined;
}
