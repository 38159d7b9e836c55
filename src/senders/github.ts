/**
 * `verify: { type: github }`: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>` (Meta
 * signs the same way). Every delivery carries its id in `X-GitHub-Delivery`: the default dedupe key.
 */
import { z } from 'zod';
import { secrets } from '../config/fields.js';
import { bodyHmacVerifier } from './hmac.js';
import { defineProvider } from './provider.js';

const SCHEME = { header: 'X-Hub-Signature-256', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' } as const;

export const github = defineProvider({
  type: 'github',
  schema: z.strictObject({ type: z.literal('github'), secret: secrets }),
  createVerifier: (config) => bodyHmacVerifier(SCHEME, config.secret),
  dedupeKey: 'header:x-github-delivery',
});
