/**
 * Re-signing a Stripe event that waited in the journal past Stripe's 300 s tolerance: the consumer's
 * unmodified `stripe.webhooks.constructEvent` accepts what Sluice delivers.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { claimOf, header, names } from '../../helpers/claim.js';
import { deliverOnce } from '../../helpers/deliver.js';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_test_consumer_shares_this';
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.succeeded' });
const receivedAt = Date.now() - 30 * 60_000;
const signedThen = stripe.webhooks.generateTestHeaderString({
  payload: body,
  secret: SECRET,
  timestamp: Math.floor(receivedAt / 1000),
});
const claim = claimOf({
  source: 'stripe',
  receivedAt,
  body,
  headers: [
    ['Content-Type', 'application/json'],
    ['Stripe-Signature', signedThen],
    ['User-Agent', 'Stripe/1.0'],
  ],
});

describe('resign: stripe', () => {
  it('without re-signing, the consumer refuses an event held back 30 minutes (the problem)', async () => {
    const got = await deliverOnce(claim, { sources: { stripe: { verify: { type: 'stripe', secret: SECRET } } } });
    expect(header(got.rawHeaders, 'stripe-signature')).toBe(signedThen);
    expect(() => stripe.webhooks.constructEvent(got.body, signedThen, SECRET)).toThrow(
      /Timestamp outside the tolerance zone/,
    );
  });

  it('with resign: true, the consumer accepts it, with the body and other headers unchanged', async () => {
    const got = await deliverOnce(claim, {
      sources: { stripe: { verify: { type: 'stripe', secret: SECRET }, resign: true } },
    });
    const fresh = header(got.rawHeaders, 'stripe-signature')!;
    expect(fresh).not.toBe(signedThen);
    expect(stripe.webhooks.constructEvent(got.body, fresh, SECRET).id).toBe('evt_1');
    expect(Number(/t=(\d+)/.exec(fresh)![1])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    expect(got.body.toString()).toBe(body);
    // Replaced in place, same spelling; the rest as received.
    expect(
      names(got.rawHeaders).filter(
        (n) => !['host', 'connection', 'content-length'].includes(n) && !n.startsWith('sluice-'),
      ),
    ).toEqual(['Content-Type', 'Stripe-Signature', 'User-Agent']);
    expect(header(got.rawHeaders, 'user-agent')).toBe('Stripe/1.0');
  });

  it('signs with every secret of a rotation list, so a consumer holding either verifies', async () => {
    const claimed = claimOf({
      source: 'stripe',
      receivedAt,
      body,
      headers: [
        [
          'Stripe-Signature',
          stripe.webhooks.generateTestHeaderString({
            payload: body,
            secret: 'whsec_old',
            timestamp: Math.floor(receivedAt / 1000),
          }),
        ],
      ],
    });
    const got = await deliverOnce(claimed, {
      sources: { stripe: { verify: { type: 'stripe', secret: ['whsec_new', 'whsec_old'] }, resign: true } },
    });
    const fresh = header(got.rawHeaders, 'stripe-signature')!;
    expect(fresh.match(/v1=/g)).toHaveLength(2);
    expect(stripe.webhooks.constructEvent(got.body, fresh, 'whsec_new').id).toBe('evt_1');
    expect(stripe.webhooks.constructEvent(got.body, fresh, 'whsec_old').id).toBe('evt_1');
  });
});
