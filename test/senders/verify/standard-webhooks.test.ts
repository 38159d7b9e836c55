/**
 * `verify: { type: standard-webhooks }`, signed with the `standardwebhooks` library (webhook-*
 * headers) and with Svix's own `svix` library (svix-* headers): the cases specific to it (the
 * shared ones are in providers.test.ts).
 */
import { afterEach, describe, it } from 'vitest';
import { standardWebhooksHeaders, svixHeaders } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_dGhpcyBpcyBhbm90aGVyIGtleSwgMzIgYnl0ZXMh';
const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', total: 42 } });

const headers = (secret = SECRET) => standardWebhooksHeaders(secret, body);

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('standard webhooks signatures', () => {
  it('accepts the svix- header names, signed by the svix library', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    await source.expectAccepted(await source.post(body, svixHeaders(SECRET, body)));
  });

  it('accepts a secret written without the whsec_ prefix', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET.slice('whsec_'.length) } });
    await source.expectAccepted(await source.post(body, headers()));
  });

  it('rejects a changed webhook-id', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    await source.expectRejected(
      await source.post(body, { ...headers(), 'webhook-id': 'msg_other' }),
      /no v1 signature/,
    );
  });

  it('rejects missing headers', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } = headers();
    await source.expectRejected(
      await source.post(body, { 'webhook-id': id, 'webhook-timestamp': ts }),
      /missing webhook-signature \(or svix-signature\)/,
    );
    await source.expectRejected(
      await source.post(body, { 'webhook-timestamp': ts, 'webhook-signature': sig }),
      /missing webhook-id/,
    );
    await source.expectRejected(
      await source.post(body, { 'webhook-id': id, 'webhook-signature': sig }),
      /missing webhook-timestamp/,
    );
  });

  it('accepts when one of several space-separated signatures matches, and says v1a is not supported', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    const h = headers();
    const other = headers(OTHER)['webhook-signature'];
    await source.expectAccepted(
      await source.post(body, { ...h, 'webhook-signature': `${other} v1a,AAAA ${h['webhook-signature']}` }),
    );
    await source.expectRejected(
      await source.post(body, { ...h, 'webhook-signature': 'v1a,AAAA' }),
      /v1a, ed25519, is not supported/,
    );
  });
});
