/**
 * `verify: { type: standard-webhooks }`, signed with the `standardwebhooks` library (webhook-*
 * headers) and with Svix's own `svix` library (svix-* headers).
 */
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, it } from 'vitest';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_dGhpcyBpcyBhbm90aGVyIGtleSwgMzIgYnl0ZXMh';
const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', total: 42 } });

function headers(secret = SECRET, at = new Date(), id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', payload = body) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, payload),
  };
}

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('standard webhooks signatures', () => {
  it('accepts a request signed by the standardwebhooks library', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    await source.expectAccepted(await source.post(body, headers()));
  });

  it('accepts the svix- header names, signed by the svix library', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    const at = new Date();
    const id = 'msg_svix_1';
    await source.expectAccepted(
      await source.post(body, {
        'svix-id': id,
        'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
        'svix-signature': new SvixWebhook(SECRET).sign(id, at, body),
      }),
    );
  });

  it('accepts a secret written without the whsec_ prefix', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET.slice('whsec_'.length) } });
    await source.expectAccepted(await source.post(body, headers()));
  });

  it('rejects a changed body, a wrong secret and a changed webhook-id', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    await source.expectRejected(
      await source.post(body.replace('42', '43'), headers()),
      /no v1 signature in webhook-signature matches/,
    );
    await source.expectRejected(
      await source.post(body, headers(OTHER)),
      /no v1 signature in webhook-signature matches/,
    );
    await source.expectRejected(
      await source.post(body, { ...headers(), 'webhook-id': 'msg_other' }),
      /no v1 signature/,
    );
  });

  it('rejects a timestamp outside the tolerance, either way', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: SECRET } });
    await source.expectRejected(
      await source.post(body, headers(SECRET, new Date(Date.now() - 10 * 60_000))),
      /timestamp is 60\d s old/,
    );
    await source.expectRejected(
      await source.post(body, headers(SECRET, new Date(Date.now() + 10 * 60_000))),
      /in the future/,
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

  it('accepts any secret of a rotation list', async () => {
    source = verifiedSource({ verify: { type: 'standard-webhooks', secret: [OTHER, SECRET] } });
    await source.expectAccepted(await source.post(body, headers(SECRET)));
    await source.expectAccepted(await source.post(body, headers(OTHER)));
  });
});
