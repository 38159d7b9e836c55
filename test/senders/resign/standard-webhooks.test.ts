/**
 * Re-signing Standard Webhooks (and Svix) events held back past 5 minutes: the consumer's own
 * `standardwebhooks` / `svix` library verifies what Sluice delivers. The message id is kept.
 */
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { claimOf, header } from '../../helpers/claim.js';
import { deliverOnce } from '../../helpers/deliver.js';
import type { Received } from '../../helpers/receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const body = JSON.stringify({ type: 'user.created', data: { id: 'u_1' } });
const receivedAt = Date.now() - 30 * 60_000;

function signed(family: 'webhook' | 'svix', secret = SECRET) {
  const at = new Date(receivedAt);
  const signature = (family === 'svix' ? new SvixWebhook(secret) : new Webhook(secret)).sign('msg_1', at, body);
  return claimOf({
    source: 'sw',
    receivedAt,
    body,
    headers: [
      [`${family}-id`, 'msg_1'],
      [`${family}-timestamp`, String(Math.floor(receivedAt / 1000))],
      [`${family}-signature`, signature],
    ],
  });
}

const headersOf = (got: Received, family: string) =>
  Object.fromEntries(
    ['id', 'timestamp', 'signature'].map((k) => [`${family}-${k}`, header(got.rawHeaders, `${family}-${k}`)!]),
  );

describe('resign: standard-webhooks', () => {
  it('without re-signing, the consumer library refuses the stale event', async () => {
    const got = await deliverOnce(signed('webhook'), {
      sources: { sw: { verify: { type: 'standard-webhooks', secret: SECRET } } },
    });
    expect(() => new Webhook(SECRET).verify(got.body.toString(), headersOf(got, 'webhook'))).toThrow(/too old/);
  });

  it('with resign: true, standardwebhooks verifies it, with the same webhook-id', async () => {
    const got = await deliverOnce(signed('webhook'), {
      sources: { sw: { verify: { type: 'standard-webhooks', secret: SECRET }, resign: true } },
    });
    expect(new Webhook(SECRET).verify(got.body.toString(), headersOf(got, 'webhook'))).toEqual(JSON.parse(body));
    expect(header(got.rawHeaders, 'webhook-id')).toBe('msg_1');
  });

  it('keeps the svix- names for a Svix sender, and svix verifies it', async () => {
    const got = await deliverOnce(signed('svix'), {
      sources: { sw: { verify: { type: 'standard-webhooks', secret: SECRET }, resign: true } },
    });
    expect(header(got.rawHeaders, 'webhook-signature')).toBeUndefined();
    expect(new SvixWebhook(SECRET).verify(got.body.toString(), headersOf(got, 'svix'))).toEqual(JSON.parse(body));
  });

  it('signs with every secret of a rotation list', async () => {
    const other = 'whsec_dGhpcyBpcyBhbm90aGVyIGtleSwgMzIgYnl0ZXMh';
    const got = await deliverOnce(signed('webhook', other), {
      sources: { sw: { verify: { type: 'standard-webhooks', secret: [SECRET, other] }, resign: true } },
    });
    expect(header(got.rawHeaders, 'webhook-signature')!.split(' ')).toHaveLength(2);
    for (const secret of [SECRET, other])
      expect(new Webhook(secret).verify(got.body.toString(), headersOf(got, 'webhook'))).toEqual(JSON.parse(body));
  });
});
