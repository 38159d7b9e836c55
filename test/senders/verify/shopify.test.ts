/** `verify: { type: shopify }`: base64 HMAC-SHA256 of the body, computed as senders.md describes. */
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
  it('accepts a correctly signed request', async () => {
    source = verifiedSource({ verify: { type: 'shopify', secret: SECRET } });
    await source.expectAccepted(await source.post(body, shopifyHeaders(SECRET, body)));
  });

  it('rejects a changed body, a wrong secret and a missing header', async () => {
    source = verifiedSource({ verify: { type: 'shopify', secret: SECRET } });
    await source.expectRejected(await source.post(`${body} `, shopifyHeaders(SECRET, body)), /does not match/);
    await source.expectRejected(await source.post(body, shopifyHeaders('shpss_wrong', body)), /does not match/);
    await source.expectRejected(await source.post(body), /missing X-Shopify-Hmac-Sha256/);
  });

  it('compares base64 exactly (no case folding)', async () => {
    source = verifiedSource({ verify: { type: 'shopify', secret: SECRET } });
    const headers = shopifyHeaders(SECRET, body);
    const flipped = headers['X-Shopify-Hmac-Sha256']!.replace(/[a-z]/, (c) => c.toUpperCase());
    await source.expectRejected(
      await source.post(body, { ...headers, 'X-Shopify-Hmac-Sha256': flipped }),
      /does not match/,
    );
  });

  it('accepts any secret of a rotation list', async () => {
    source = verifiedSource({ verify: { type: 'shopify', secret: [SECRET, 'shpss_next'] } });
    await source.expectAccepted(await source.post(body, shopifyHeaders('shpss_next', body)));
    await source.expectAccepted(await source.post(body, shopifyHeaders(SECRET, body)));
  });
});
