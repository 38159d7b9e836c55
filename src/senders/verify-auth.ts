/**
 * Credentials in `Authorization`: `basic` (username and password) and `bearer` (a token). Any of
 * the configured passwords or tokens is accepted (rotation); every one is compared in constant time.
 */
import type { VerifyConfig } from '../config/schema.js';
import { anyEqual } from './signature.js';
import type { Verifier } from './verify.js';

type AuthConfig = Extract<VerifyConfig, { type: 'basic' | 'bearer' }>;

export function createAuthVerifier(config: AuthConfig): Verifier {
  const scheme = config.type === 'basic' ? /^Basic +([A-Za-z0-9+/]+=*) *$/i : /^Bearer +(\S+) *$/i;
  const expected = config.type === 'basic' ? config.password.map((p) => `${config.username}:${p}`) : config.token;
  const name = config.type === 'basic' ? 'Basic' : 'Bearer';
  return ({ headers }) => {
    const header = headers.get('authorization');
    if (header === null) return { ok: false, reason: 'missing Authorization header' };
    const match = scheme.exec(header);
    if (!match) return { ok: false, reason: `Authorization is not ${name} credentials` };
    const presented = config.type === 'basic' ? Buffer.from(match[1]!, 'base64').toString('utf8') : match[1]!;
    return anyEqual([presented], expected) ? { ok: true } : { ok: false, reason: `${name} credentials do not match` };
  };
}
