/**
 * Signatures that are an HMAC of the body alone, in one header: GitHub (and Meta), Shopify, and the
 * generic `hmac` type. No timestamp, so nothing to re-sign and no replay window.
 */
import type { VerifyConfig } from '../config/schema.js';
import { anyEqual, hmac } from './signature.js';
import type { Verifier } from './verify.js';

type BodyConfig = Extract<VerifyConfig, { type: 'github' | 'shopify' | 'hmac' }>;

interface BodyScheme {
  header: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  encoding: 'hex' | 'base64';
  prefix: string;
}

/** The named providers, as instances of the generic scheme. */
const PRESETS = {
  github: { header: 'X-Hub-Signature-256', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
  shopify: { header: 'X-Shopify-Hmac-Sha256', algorithm: 'sha256', encoding: 'base64', prefix: '' },
} as const satisfies Record<string, BodyScheme>;

export function createBodyVerifier(config: BodyConfig): Verifier {
  const scheme: BodyScheme = config.type === 'hmac' ? config : PRESETS[config.type];
  const secrets = config.secret;
  return ({ headers, body }) => {
    const given = headers.get(scheme.header);
    if (given === null) return { ok: false, reason: `missing ${scheme.header} header` };
    if (!given.startsWith(scheme.prefix))
      return { ok: false, reason: `${scheme.header} does not start with "${scheme.prefix}"` };
    const digest = given.slice(scheme.prefix.length).trim();
    // Hex is case-insensitive; base64 is not.
    const presented = scheme.encoding === 'hex' ? digest.toLowerCase() : digest;
    const expected = secrets.map((secret) => hmac(scheme.algorithm, secret, body).toString(scheme.encoding));
    return anyEqual([presented], expected)
      ? { ok: true }
      : { ok: false, reason: `${scheme.header} does not match the body (changed body or wrong secret)` };
  };
}
