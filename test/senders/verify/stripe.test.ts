/**
 * `verify: { type: stripe }`, signed with the `stripe` SDK's own test header helper: the
 * Stripe-specific cases (the shared ones are in providers.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nowSeconds, stripeHeaders } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'whsec_test_5f1c0e2a9b8d7c6e';
const body = JSON.stringify({
  id: 'evt_1Nq',
  object: 'event',
  type: 'invoice.paid',
  data: { object: { amount: 1999 } },
});
const header = (secret = SECRET, timestamp = nowSeconds()) =>
  stripeHeaders(secret, body, timestamp)['Stripe-Signature']!;

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('stripe signatures', () => {
  it('rejects a timestamp older than the tolerance (300 s by default), and one far in the future', async () => {
    source = verifiedSource({ verify: { type: 'stripe', secret: SECRET } });
    await source.expectAccepted(await source.post(body, { 'Stripe-Signature': header(SECRET, nowSeconds(-240)) }));
    await source.expectRejected(
      await source.post(body, { 'Stripe-Signature': header(SECRET, nowSeconds(-360)) }),
      /timestamp is 36\d s old; the tolerance is 300 s/,
    );
    await source.expectRejected(
      await source.post(body, { 'Stripe-Signature': header(SECRET, nowSeconds(600)) }),
      /in the future/,
    );
  });

  it('honours a configured tolerance', async () => {
    source = verifiedSource({ verify: { type: 'stripe', secret: SECRET, tolerance: '15m' } });
    await source.expectAccepted(await source.post(body, { 'Stripe-Signature': header(SECRET, nowSeconds(-600)) }));
    await source.expectRejected(
      await source.post(body, { 'Stripe-Signature': header(SECRET, nowSeconds(-1000)) }),
      /tolerance is 900 s/,
    );
  });

  it('uses the ingest clock, not the wall clock', async () => {
    const past = Date.now() - 3_600_000;
    source = verifiedSource({ verify: { type: 'stripe', secret: SECRET } }, { clock: () => past });
    await source.expectAccepted(
      await source.post(body, { 'Stripe-Signature': header(SECRET, Math.floor(past / 1000)) }),
    );
    await source.expectRejected(await source.post(body, { 'Stripe-Signature': header() }), /in the future/);
  });

  it('rejects a header without t= or without v1=', async () => {
    source = verifiedSource({ verify: { type: 'stripe', secret: SECRET } });
    const h = header();
    await source.expectRejected(
      await source.post(body, { 'Stripe-Signature': h.replace(/t=\d+,/, '') }),
      /exactly one t=/,
    );
    await source.expectRejected(
      await source.post(body, { 'Stripe-Signature': h.replace('v1=', 'v0=') }),
      /no v1 signature$/,
    );
  });

  it('accepts when any of several v1 signatures matches (Stripe rolling its secret), ignoring v0', async () => {
    source = verifiedSource({ verify: { type: 'stripe', secret: SECRET } });
    const t = nowSeconds();
    const v1 = (secret: string) => /v1=([0-9a-f]+)/.exec(header(secret, t))![1];
    await source.expectAccepted(
      await source.post(body, { 'Stripe-Signature': `t=${t},v1=${v1('whsec_old')},v1=${v1(SECRET)},v0=abc` }),
    );
    await source.expectRejected(
      await source.post(body, { 'Stripe-Signature': `t=${t},v1=${v1('whsec_old')},v0=${v1(SECRET)}` }),
      /no v1 signature .* matches/,
    );
  });

  it('keeps the Stripe-Signature header with the stored event', async () => {
    source = verifiedSource({ verify: { type: 'stripe', secret: SECRET } });
    const h = header();
    const res = await source.post(body, { 'Stripe-Signature': h });
    const { id } = (await res.json()) as { id: string };
    expect((await source.fixture.journal.getEvent(id))!.headers).toContainEqual(['stripe-signature', h]);
  });
});
