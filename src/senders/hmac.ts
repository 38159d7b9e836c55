/**
 * `verify: { type: hmac }`: any HMAC of the body alone, in one header (`<prefix><hex or base64 digest>`).
 * GitHub and Shopify are instances of this scheme (github.ts, shopify.ts). No timestamp, so nothing
 * to re-sign and no replay window.
 */
import { z } from 'zod';
import { secrets } from '../config/fields.js';
import { defineProvider, type Verifier } from './provider.js';
import { anyEqual, hmac as hmacOf } from './signature.js';

/** Where and how a body HMAC is written. */
export interface BodyHmacScheme {
  header: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  encoding: 'hex' | 'base64';
  prefix: string;
}

/** Any of `secrets` may have signed the body. */
export function bodyHmacVerifier(scheme: BodyHmacScheme, secrets: readonly string[]): Verifier {
  return ({ headers, body }) => {
    const given = headers.get(scheme.header);
    if (given === null) return { ok: false, reason: `missing ${scheme.header} header` };
    if (!given.startsWith(scheme.prefix))
      return { ok: false, reason: `${scheme.header} does not start with "${scheme.prefix}"` };
    const digest = given.slice(scheme.prefix.length).trim();
    // Hex is case-insensitive; base64 is not.
    const presented = scheme.encoding === 'hex' ? digest.toLowerCase() : digest;
    const expected = secrets.map((secret) => hmacOf(scheme.algorithm, secret, body).toString(scheme.encoding));
    return anyEqual([presented], expected)
      ? { ok: true }
      : { ok: false, reason: `${scheme.header} does not match the body (changed body or wrong secret)` };
  };
}

export const hmac = defineProvider({
  type: 'hmac',
  schema: z.strictObject({
    type: z.literal('hmac'),
    secret: secrets,
    header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'),
    algorithm: z.enum(['sha1', 'sha256', 'sha512']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    prefix: z.string().default(''),
  }),
  createVerifier: (config) => bodyHmacVerifier(config, config.secret),
});
