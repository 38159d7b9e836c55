/**
 * `sign:` on a destination: a Standard Webhooks signature made with the destination's own secret,
 * with webhook-id = the Sluice event id, which the consumer checks with the standardwebhooks library.
 */

import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { claimOf, header } from '../../helpers/claim.js';
import { deliverOnce } from '../../helpers/deliver.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { post } from '../../helpers/post.js';
import { type Received, startReceiver } from '../../helpers/receiver.js';

const SLUICE_SECRET = 'whsec_c2x1aWNlIHRvIGNybSwgb3VyIG93biBrZXkhIQ==';
const NEXT_SECRET = 'whsec_dGhpcyBpcyBhbm90aGVyIGtleSwgMzIgYnl0ZXMh';
const body = '{"order":42}';
const headersOf = (got: Received) =>
  Object.fromEntries(
    ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((k) => [k, header(got.rawHeaders, k)!]),
  );

describe('destination sign', () => {
  it('adds webhook-id (the event id), webhook-timestamp and webhook-signature that verify with the destination secret', async () => {
    const claim = claimOf({
      id: '6f1c2a9e-1b7d-4c55-9a0e-5d2f8e3b7c10',
      source: 'shop',
      receivedAt: Date.now() - 3_600_000,
      body,
      headers: [['Content-Type', 'application/json']],
    });
    const got = await deliverOnce(claim, { sources: { shop: {} }, destination: { sign: { secret: SLUICE_SECRET } } });
    expect(header(got.rawHeaders, 'webhook-id')).toBe('6f1c2a9e-1b7d-4c55-9a0e-5d2f8e3b7c10');
    expect(Math.abs(Number(header(got.rawHeaders, 'webhook-timestamp')) - Date.now() / 1000)).toBeLessThan(5);
    expect(new Webhook(SLUICE_SECRET).verify(got.body.toString(), headersOf(got))).toEqual({ order: 42 });
    expect(() => new Webhook(NEXT_SECRET).verify(got.body.toString(), headersOf(got))).toThrow(/No matching signature/);
  });

  it('signs with each secret of a list (rotation at the consumer)', async () => {
    const claim = claimOf({ source: 'shop', receivedAt: Date.now(), body, headers: [] });
    const got = await deliverOnce(claim, {
      sources: { shop: {} },
      destination: { sign: { secret: [SLUICE_SECRET, NEXT_SECRET] } },
    });
    for (const secret of [SLUICE_SECRET, NEXT_SECRET])
      expect(new Webhook(secret).verify(got.body.toString(), headersOf(got))).toEqual({ order: 42 });
  });

  it("replaces a sender's own webhook-* headers, and leaves a re-signed Stripe signature alone", async () => {
    const stripe = new Stripe('sk_test_unused');
    const receivedAt = Date.now() - 30 * 60_000;
    const stripeSig = stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret: 'whsec_stripe',
      timestamp: Math.floor(receivedAt / 1000),
    });
    const claim = claimOf({
      source: 'stripe',
      receivedAt,
      body,
      headers: [
        ['Stripe-Signature', stripeSig],
        ['webhook-id', 'sender-id'],
        ['webhook-signature', 'v1,c2VuZGVy'],
      ],
    });
    const got = await deliverOnce(claim, {
      sources: { stripe: { verify: { type: 'stripe', secret: 'whsec_stripe' }, resign: true } },
      destination: { sign: { secret: SLUICE_SECRET } },
    });
    expect(got.rawHeaders.filter((v) => v.toLowerCase() === 'webhook-signature')).toHaveLength(1);
    expect(new Webhook(SLUICE_SECRET).verify(got.body.toString(), headersOf(got))).toEqual({ order: 42 });
    expect(
      stripe.webhooks.constructEvent(got.body, header(got.rawHeaders, 'stripe-signature')!, 'whsec_stripe'),
    ).toEqual({ order: 42 });
  });

  it("works through a real gateway's default delivery client, with no wiring", async () => {
    const receiver = await startReceiver();
    const gateway = await startTestGateway({
      destinations: { crm: { url: `${receiver.url}/hook`, sign: { secret: SLUICE_SECRET } } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    });
    try {
      const ack = await post(`${gateway.url}/in/shop`, body);
      await receiver.waitFor(1);
      const got = receiver.received[0]!;
      expect(header(got.rawHeaders, 'webhook-id')).toBe(ack.id);
      expect(new Webhook(SLUICE_SECRET).verify(got.body.toString(), headersOf(got))).toEqual({ order: 42 });
    } finally {
      await gateway.stop();
      await receiver.close();
    }
  });
});
