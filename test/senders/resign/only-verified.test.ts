/**
 * Sluice re-signs only what verified when it was received: a stored request whose signature does
 * not match (stored before verification was configured, or forged) is forwarded as it came, so the
 * consumer still refuses it. Sources without `resign`, and events of a source no longer configured,
 * are forwarded as they came too.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { claimOf, header } from '../../helpers/claim.js';
import { deliverOnce } from '../../helpers/deliver.js';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_real';
const body = JSON.stringify({ id: 'evt_2', object: 'event' });
const receivedAt = Date.now() - 30 * 60_000;
const at = Math.floor(receivedAt / 1000);
const sources = { stripe: { verify: { type: 'stripe', secret: SECRET }, resign: true } };

describe('what is re-signed', () => {
  it('not a request signed with another secret', async () => {
    const forged = stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_attacker', timestamp: at });
    const got = await deliverOnce(
      claimOf({ source: 'stripe', receivedAt, body, headers: [['Stripe-Signature', forged]] }),
      { sources },
    );
    expect(header(got.rawHeaders, 'stripe-signature')).toBe(forged);
  });

  it('not a request whose body differs from what was signed', async () => {
    const signed = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: at });
    const got = await deliverOnce(
      claimOf({ source: 'stripe', receivedAt, body: `${body} `, headers: [['Stripe-Signature', signed]] }),
      { sources },
    );
    expect(header(got.rawHeaders, 'stripe-signature')).toBe(signed);
  });

  it('not a request without a signature (nothing is added)', async () => {
    const got = await deliverOnce(claimOf({ source: 'stripe', receivedAt, body, headers: [['X-Other', '1']] }), {
      sources,
    });
    expect(header(got.rawHeaders, 'stripe-signature')).toBeUndefined();
  });

  it('not events of a source without resign, nor of a source no longer configured', async () => {
    const signed = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: at });
    const noResign = await deliverOnce(
      claimOf({ source: 'stripe', receivedAt, body, headers: [['Stripe-Signature', signed]] }),
      {
        sources: { stripe: { verify: { type: 'stripe', secret: SECRET } } },
      },
    );
    expect(header(noResign.rawHeaders, 'stripe-signature')).toBe(signed);
    const gone = await deliverOnce(
      claimOf({ source: 'renamed', receivedAt, body, headers: [['Stripe-Signature', signed]] }),
      { sources },
    );
    expect(header(gone.rawHeaders, 'stripe-signature')).toBe(signed);
  });

  it('but a request that verified at its receivedAt, however old', async () => {
    const old = Date.now() - 3 * 86_400_000;
    const signed = stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret: SECRET,
      timestamp: Math.floor(old / 1000),
    });
    const got = await deliverOnce(
      claimOf({ source: 'stripe', receivedAt: old, body, headers: [['Stripe-Signature', signed]] }),
      { sources },
    );
    expect(stripe.webhooks.constructEvent(got.body, header(got.rawHeaders, 'stripe-signature')!, SECRET).id).toBe(
      'evt_2',
    );
  });
});
