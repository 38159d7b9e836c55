/**
 * Every `verify.type`, through a real ingest app, on the cases all of them share: a request signed
 * as the sender signs it is accepted; a wrong secret, a missing signature, a changed body (for
 * signatures over the body) and a timestamp outside the tolerance (for timestamped ones) are
 * refused; any secret of a rotation list verifies. Provider-specific cases are in <type>.test.ts.
 */
import { afterEach, describe, it } from 'vitest';
import {
  basicAuthorization,
  bearerHeaders,
  githubHeaders,
  hmacHeaders,
  nowSeconds,
  type SignAs,
  shopifyHeaders,
  slackHeaders,
  standardWebhooksHeaders,
  stripeHeaders,
  zoomHeaders,
} from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

interface Provider {
  type: string;
  /** The source's `verify:` with these secrets (passwords, tokens). */
  verify: (secrets: string[]) => Record<string, unknown>;
  sign: SignAs;
  /** The secret in use, its rotation partner, and one that is no longer configured. */
  secrets: { current: string; next: string; retired: string };
  body: string;
  /** The body changed after signing; absent for credentials, which do not cover the body. */
  changed?: (body: string) => string;
  /** The reason of a signature made with another secret (or wrong credentials). */
  mismatch: RegExp;
  /** The reason when the request carries no signature at all. */
  missing: RegExp;
  timestamped?: true;
}

const providers: Provider[] = [
  {
    type: 'github',
    verify: (secret) => ({ type: 'github', secret }),
    sign: githubHeaders,
    secrets: { current: "It's a Secret to Everybody", next: 'new secret', retired: 'retired secret' },
    body: JSON.stringify({ action: 'opened', number: 1, pull_request: { title: 'Grüße 🦆' } }),
    changed: (body) => body.replace('opened', 'closed'),
    mismatch: /does not match/,
    missing: /missing X-Hub-Signature-256/,
  },
  {
    type: 'stripe',
    verify: (secret) => ({ type: 'stripe', secret }),
    sign: stripeHeaders,
    secrets: { current: 'whsec_test_5f1c0e2a9b8d7c6e', next: 'whsec_new', retired: 'whsec_other' },
    body: JSON.stringify({ id: 'evt_1Nq', object: 'event', type: 'invoice.paid', data: { object: { amount: 1999 } } }),
    changed: (body) => body.replace('1999', '1'),
    mismatch: /no v1 signature .* matches/,
    missing: /missing Stripe-Signature/,
    timestamped: true,
  },
  {
    type: 'shopify',
    verify: (secret) => ({ type: 'shopify', secret }),
    sign: shopifyHeaders,
    secrets: { current: 'shpss_0123456789abcdef', next: 'shpss_next', retired: 'shpss_wrong' },
    body: JSON.stringify({ id: 820982911946154500, email: 'jon@example.com', note: 'café' }),
    changed: (body) => `${body} `,
    mismatch: /does not match/,
    missing: /missing X-Shopify-Hmac-Sha256/,
  },
  {
    type: 'slack',
    verify: (secret) => ({ type: 'slack', secret }),
    sign: slackHeaders,
    secrets: { current: '8f742231b10e8888abcd99yyyzzz85a5', next: 'old-signing-secret', retired: 'wrong' },
    body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070',
    changed: (body) => body.replace('94070', '10001'),
    mismatch: /X-Slack-Signature does not match/,
    missing: /missing X-Slack-Signature/,
    timestamped: true,
  },
  {
    type: 'standard-webhooks',
    verify: (secret) => ({ type: 'standard-webhooks', secret }),
    sign: standardWebhooksHeaders,
    secrets: {
      current: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      next: 'whsec_dGhpcyBpcyBhbm90aGVyIGtleSwgMzIgYnl0ZXMh',
      retired: `whsec_${Buffer.from('a key that was rotated out, 32b!').toString('base64')}`,
    },
    body: JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', total: 42 } }),
    changed: (body) => body.replace('42', '43'),
    mismatch: /no v1 signature in webhook-signature matches/,
    missing: /missing webhook-signature \(or svix-signature\)/,
    timestamped: true,
  },
  {
    type: 'zoom',
    verify: (secret) => ({ type: 'zoom', secret }),
    sign: zoomHeaders,
    secrets: { current: 'zoom_secret_token_abc', next: 'next', retired: 'nope' },
    body: JSON.stringify({
      event: 'meeting.started',
      payload: { object: { id: '1234567890', topic: 'Standup' } },
      event_ts: 1626230691572,
    }),
    changed: (body) => body.replace('Standup', 'Retro'),
    mismatch: /x-zm-signature does not match/,
    missing: /missing x-zm-signature/,
    timestamped: true,
  },
  {
    type: 'hmac',
    verify: (secret) => ({ type: 'hmac', header: 'X-Sig', secret }),
    sign: hmacHeaders('X-Sig'),
    secrets: { current: 'generic-secret', next: 'generic-next', retired: 'wrong' },
    body: '{"event":"ping"}',
    changed: (body) => `${body}\n`,
    mismatch: /X-Sig does not match/,
    missing: /missing X-Sig header/,
  },
  {
    type: 'basic',
    verify: (password) => ({ type: 'basic', username: 'hooks', password }),
    sign: (password) => ({ Authorization: basicAuthorization('hooks', password) }),
    secrets: { current: 'n3w-pässword', next: 'old:with:colons', retired: 'guess' },
    body: '{}',
    mismatch: /Basic credentials do not match/,
    missing: /missing Authorization/,
  },
  {
    type: 'bearer',
    verify: (token) => ({ type: 'bearer', token }),
    sign: bearerHeaders,
    secrets: { current: 'tok-current', next: 'tok-previous', retired: 'tok' },
    body: '{}',
    mismatch: /Bearer credentials do not match/,
    missing: /missing Authorization/,
  },
];

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

const signingBody = providers.filter((p) => p.changed !== undefined);
const timestamped = providers.filter((p) => p.timestamped);

describe('every verify.type', () => {
  it.each(providers)('$type: accepts a request signed as the sender signs it', async (p) => {
    source = verifiedSource({ verify: p.verify([p.secrets.current]) });
    await source.expectAccepted(await source.post(p.body, await p.sign(p.secrets.current, p.body)));
  });

  it.each(providers)('$type: refuses a wrong secret', async (p) => {
    source = verifiedSource({ verify: p.verify([p.secrets.current]) });
    await source.expectRejected(await source.post(p.body, await p.sign(p.secrets.retired, p.body)), p.mismatch);
  });

  it.each(providers)('$type: refuses a request without a signature', async (p) => {
    source = verifiedSource({ verify: p.verify([p.secrets.current]) });
    await source.expectRejected(await source.post(p.body), p.missing);
  });

  it.each(providers)('$type: accepts any secret of a rotation list, and refuses one not in it', async (p) => {
    const { current, next, retired } = p.secrets;
    source = verifiedSource({ verify: p.verify([next, current]) });
    await source.expectAccepted(await source.post(p.body, await p.sign(current, p.body)));
    await source.expectAccepted(await source.post(p.body, await p.sign(next, p.body)));
    await source.expectRejected(await source.post(p.body, await p.sign(retired, p.body)), p.mismatch);
  });

  it.each(signingBody)('$type: refuses a changed body', async (p) => {
    source = verifiedSource({ verify: p.verify([p.secrets.current]) });
    const signed = await p.sign(p.secrets.current, p.body);
    await source.expectRejected(await source.post(p.changed!(p.body), signed), p.mismatch);
  });

  it.each(timestamped)('$type: refuses a timestamp outside the tolerance (300 s by default), either way', async (p) => {
    source = verifiedSource({ verify: p.verify([p.secrets.current]) });
    await source.expectRejected(
      await source.post(p.body, await p.sign(p.secrets.current, p.body, nowSeconds(-600))),
      /timestamp is 60\d s old; the tolerance is 300 s/,
    );
    await source.expectRejected(
      await source.post(p.body, await p.sign(p.secrets.current, p.body, nowSeconds(600))),
      /s in the future; the tolerance is 300 s/,
    );
  });
});
