/**
 * End to end through a real gateway: a Stripe event is verified at ingest, then reaches the
 * consumer 30 minutes after it was signed (the gateway's clock runs 30 minutes behind the
 * consumer's; the delivery client re-signs with the wall clock). The consumer's unmodified
 * `stripe.webhooks.constructEvent` accepts it only when the source re-signs.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { createDeliveryClient } from '../../../src/delivery/http-client.js';
import { createResigner } from '../../../src/senders/resign.js';
import { header } from '../../helpers/claim.js';
import { gatewayTest, startTestGateway } from '../../helpers/gateway.js';
import { post } from '../../helpers/post.js';
import { startReceiver } from '../../helpers/receiver.js';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_end_to_end';
const HELD_BACK_MS = 30 * 60_000;

const t = gatewayTest();

async function run(resign: boolean) {
  const receiver = (t.receiver = await startReceiver());
  const input = {
    destinations: { crm: { url: `${receiver.url}/stripe` } },
    sources: { stripe: { path: '/in/stripe', to: 'crm', verify: { type: 'stripe', secret: SECRET }, resign } },
  };
  const sources = configSchema.parse(input).sources;
  const clock = () => Date.now() - HELD_BACK_MS;
  // The wiring the gateway's default createClient is to get: the re-signer built from config.sources.
  const gateway = (t.gateway = await startTestGateway(input, {
    clock,
    createClient: (destination) => createDeliveryClient(destination, { sign: createResigner(sources) }),
  }));

  const body = JSON.stringify({ id: 'evt_held', object: 'event', type: 'payment_intent.succeeded' });
  const signature = stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: SECRET,
    timestamp: Math.floor(clock() / 1000),
  });
  const ack = await post(`${gateway.url}/in/stripe`, body, { 'Stripe-Signature': signature });
  expect(ack.status).toBe(202);
  await receiver.waitFor(1);
  const got = receiver.received[0]!;
  return { got, signature: header(got.rawHeaders, 'stripe-signature')! };
}

describe('an event held back longer than the tolerance', () => {
  it('fails at the consumer without resign', async () => {
    const { got, signature } = await run(false);
    expect(() => stripe.webhooks.constructEvent(got.body, signature, SECRET)).toThrow(/tolerance/);
  });

  it('verifies at the consumer with resign: true', async () => {
    const { got, signature } = await run(true);
    expect(stripe.webhooks.constructEvent(got.body, signature, SECRET).id).toBe('evt_held');
  });
});
