/**
 * `verify: { type: zoom }`: Slack's `v0` scheme (slack.ts) under `x-zm-signature` and
 * `x-zm-request-timestamp`. Zoom's signed handshake, `{"event":"endpoint.url_validation",
 * "payload":{"plainToken":…}}`, is answered with `{"plainToken":…,"encryptedToken":hex
 * HMAC-SHA256(secret, plainToken)}`, only after the request verifies: otherwise Sluice would be an
 * HMAC oracle for the secret.
 */
import { z } from 'zod';
import { secrets, tolerance } from '../config/fields.js';
import { bodyIncludes, defineProvider, jsonAnswer, parseJsonObject } from './provider.js';
import { hmac } from './signature.js';
import { type V0Headers, v0Resign, v0Verifier } from './slack.js';

const HEADERS: V0Headers = { signature: 'x-zm-signature', timestamp: 'x-zm-request-timestamp' };

/** The `encryptedToken` of Zoom's `endpoint.url_validation` answer. */
function encryptedToken(secret: string, plainToken: string): string {
  return hmac('sha256', secret, plainToken).toString('hex');
}

export const zoom = defineProvider({
  type: 'zoom',
  schema: z.strictObject({ type: z.literal('zoom'), secret: secrets, tolerance }),
  createVerifier: (config) => v0Verifier(HEADERS, config.secret, config.tolerance),
  createResign: (config) => v0Resign(HEADERS, config.secret),
  createHandshake: (config) => {
    // The config refuses `handshake: zoom` without `verify.type: zoom`, so there is always a secret.
    if (!config) return undefined;
    // Zoom validates with its current secret: answer with the configured one the request was signed with.
    const signers = config.secret.map((secret) => ({
      secret,
      verify: v0Verifier(HEADERS, [secret], config.tolerance),
    }));
    return (request) => {
      if (!bodyIncludes(request.body, 'endpoint.url_validation')) return undefined;
      const message = parseJsonObject(request.body);
      const payload = message?.payload as Record<string, unknown> | undefined;
      if (message?.event !== 'endpoint.url_validation' || typeof payload?.plainToken !== 'string') return undefined;
      const signer = signers.find((s) => s.verify(request).ok) ?? signers[0]!;
      return jsonAnswer({
        plainToken: payload.plainToken,
        encryptedToken: encryptedToken(signer.secret, payload.plainToken),
      });
    };
  },
});
