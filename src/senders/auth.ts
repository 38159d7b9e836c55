/**
 * Credentials in `Authorization`: `verify: { type: basic }` (a username and one of the passwords)
 * and `verify: { type: bearer }` (one of the tokens). Any configured password or token is accepted
 * (rotation); every one is compared in constant time. A refusal carries a `WWW-Authenticate` challenge.
 */
import { z } from 'zod';
import { secrets } from '../config/fields.js';
import { defineProvider, type Verifier } from './provider.js';
import { anyEqual } from './signature.js';

/** `presented` is what `scheme` captured from the header, decoded; it must equal one of `expected`. */
function credentialsVerifier(
  name: 'Basic' | 'Bearer',
  scheme: RegExp,
  decode: (captured: string) => string,
  expected: readonly string[],
): Verifier {
  return ({ headers }) => {
    const header = headers.get('authorization');
    if (header === null) return { ok: false, reason: 'missing Authorization header' };
    const match = scheme.exec(header);
    if (!match) return { ok: false, reason: `Authorization is not ${name} credentials` };
    return anyEqual([decode(match[1]!)], expected)
      ? { ok: true }
      : { ok: false, reason: `${name} credentials do not match` };
  };
}

export const basic = defineProvider({
  type: 'basic',
  schema: z.strictObject({
    type: z.literal('basic'),
    username: z.string().min(1, 'must not be empty'),
    password: secrets,
  }),
  createVerifier: (config) =>
    credentialsVerifier(
      'Basic',
      /^Basic +([A-Za-z0-9+/]+=*) *$/i,
      (b64) => Buffer.from(b64, 'base64').toString('utf8'),
      config.password.map((p) => `${config.username}:${p}`),
    ),
  challenge: 'Basic realm="sluice", charset="UTF-8"',
  credentialHeaders: ['authorization'],
});

export const bearer = defineProvider({
  type: 'bearer',
  schema: z.strictObject({ type: z.literal('bearer'), token: secrets }),
  createVerifier: (config) => credentialsVerifier('Bearer', /^Bearer +(\S+) *$/i, (token) => token, config.token),
  challenge: 'Bearer realm="sluice"',
  credentialHeaders: ['authorization'],
});
