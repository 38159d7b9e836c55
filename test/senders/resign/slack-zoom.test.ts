/**
 * Re-signing Slack and Zoom events held back past 5 minutes: the consumer's check (their docs'
 * sample: v0 HMAC over `v0:ts:body`, timestamp within 5 minutes) passes on what Sluice delivers.
 */
import { describe, expect, it } from 'vitest';
import { claimOf, header } from '../../helpers/claim.js';
import { deliverOnce } from '../../helpers/deliver.js';
import { consumerVerifiesV0, slackHeaders, zoomHeaders } from '../../helpers/senders.js';

const receivedAt = Date.now() - 30 * 60_000;
const then = Math.floor(receivedAt / 1000);

const cases = [
  {
    type: 'slack',
    secret: 'slack-signing',
    sign: slackHeaders,
    ts: 'x-slack-request-timestamp',
    sig: 'x-slack-signature',
  },
  { type: 'zoom', secret: 'zoom-token', sign: zoomHeaders, ts: 'x-zm-request-timestamp', sig: 'x-zm-signature' },
] as const;

describe.each(cases)('resign: $type', ({ type, secret, sign, ts, sig }) => {
  const body = JSON.stringify({ type: 'event_callback', event: { text: 'héllo' } });
  const claim = claimOf({ source: type, receivedAt, body, headers: Object.entries(sign(secret, body, then)) });

  it('without re-signing, the consumer refuses the stale event', async () => {
    const got = await deliverOnce(claim, { sources: { [type]: { verify: { type, secret } } } });
    expect(consumerVerifiesV0(secret, header(got.rawHeaders, ts), header(got.rawHeaders, sig), got.body)).toBe(false);
  });

  it('with resign: true, the consumer accepts it', async () => {
    const got = await deliverOnce(claim, { sources: { [type]: { verify: { type, secret }, resign: true } } });
    expect(header(got.rawHeaders, ts)).not.toBe(String(then));
    expect(consumerVerifiesV0(secret, header(got.rawHeaders, ts), header(got.rawHeaders, sig), got.body)).toBe(true);
    expect(got.body.toString()).toBe(body);
  });

  it('signs with the first secret of a rotation list', async () => {
    const got = await deliverOnce(claim, {
      sources: { [type]: { verify: { type, secret: ['the-new-one', secret] }, resign: true } },
    });
    expect(consumerVerifiesV0('the-new-one', header(got.rawHeaders, ts), header(got.rawHeaders, sig), got.body)).toBe(
      true,
    );
  });
});
