/** `verify: { type: shopify }`: the Shopify-specific case (the shared ones are in providers.test.ts). */
import { afterEach, describe, it } from 'vitest';
import { shopifyHeaders } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'shpss_0123456789abcdef';
const body = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com', note: 'café' });

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('shopify signatures', () => {
  it('compares base64 exactly (no case folding)', async () => {
    source = verifiedSource({ verify: { type: 'shopify', secret: SECRET } });
    const headers = shopifyHeaders(SECRET, body);
    const flipped = headers['X-Shopify-Hmac-Sha256']!.replace(/[a-z]/, (c) => c.toUpperCase());
    await source.expectRejected(
      await source.post(body, { ...headers, 'X-Shopify-Hmac-Sha256': flipped }),
      /does not match/,
    );
  });
});
