/**
 * `verify: { type: slack }`: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`
 * with `ts` in `X-Slack-Request-Timestamp`. Zoom uses the same `v0` scheme under its own header
 * names (zoom.ts). Slack's signed handshake is `{"type":"url_verification","challenge":…}`, answered
 * with `{"challenge":…}` once the request verifies.
 */
import { z } from 'zod';
import { secrets, tolerance } from '../config/fields.js';
import { bodyIncludes, defineProvider, jsonAnswer, parseJsonObject, type Resign, type Verifier } from './provider.js';
import { anyEqual, fresh, hmac, parseUnixSeconds } from './signature.js';

/** The `v0` signature: `v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`. */
export function v0Signature(secret: string, timestamp: string, body: Uint8Array): string {
  return `v0=${hmac('sha256', secret, `v0:${timestamp}:`, body).toString('hex')}`;
}

/** Where a sender of the `v0` scheme puts its signature and timestamp. */
export interface V0Headers {
  signature: string;
  timestamp: string;
}

export function v0Verifier(names: V0Headers, secrets: readonly string[], toleranceMs: number): Verifier {
  return ({ headers, body, now }) => {
    const given = headers.get(names.signature);
    if (given === null) return { ok: false, reason: `missing ${names.signature} header` };
    const text = headers.get(names.timestamp);
    if (text === null) return { ok: false, reason: `missing ${names.timestamp} header` };
    const timestamp = parseUnixSeconds(text.trim());
    if (timestamp === undefined) return { ok: false, reason: `${names.timestamp} is not a Unix timestamp in seconds` };
    const expected = secrets.map((secret) => v0Signature(secret, text.trim(), body));
    if (!anyEqual([given.trim().toLowerCase()], expected))
      return { ok: false, reason: `${names.signature} does not match (changed body or wrong secret)` };
    return fresh(timestamp, now, toleranceMs);
  };
}

/** Re-signs with the first secret. */
export function v0Resign(names: V0Headers, secrets: readonly string[]): Resign {
  return (request, ts) => [
    [names.timestamp, ts],
    [names.signature, v0Signature(secrets[0]!, ts, request.body)],
  ];
}

const HEADERS: V0Headers = { signature: 'X-Slack-Signature', timestamp: 'X-Slack-Request-Timestamp' };

export const slack = defineProvider({
  type: 'slack',
  schema: z.strictObject({ type: z.literal('slack'), secret: secrets, tolerance }),
  createVerifier: (config) => v0Verifier(HEADERS, config.secret, config.tolerance),
  createResign: (config) => v0Resign(HEADERS, config.secret),
  // Needs no secret: the request has verified (as Slack or as whatever the source verifies) by now.
  createHandshake: () => (request) => {
    if (!bodyIncludes(request.body, 'url_verification')) return undefined;
    const message = parseJsonObject(request.body);
    if (message?.type === 'url_verification' && typeof message.challenge === 'string') {
      return jsonAnswer({ challenge: message.challenge });
    }
    return undefined;
  },
});
