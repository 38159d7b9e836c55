/**
 * `verify: { type: shopify }`: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`. Every
 * webhook carries its id in `X-Shopify-Webhook-Id`: the default dedupe key.
 */
import { z } from 'zod';
import { secrets } from '../config/fields.js';
import { bodyHmacVerifier } from './hmac.js';
import { defineProvider } from './provider.js';

const SCHEME = { header: 'X-Shopify-Hmac-Sha256', algorithm: 'sha256', encoding: 'base64', prefix: '' } as const;

export const shopify = defineProvider({
  type: 'shopify',
  schema: z.strictObject({ type: z.literal('shopify'), secret: secrets }),
  createVerifier: (config) => bodyHmacVerifier(SCHEME, config.secret),
  dedupeKey: 'header:x-shopify-webhook-id',
});
