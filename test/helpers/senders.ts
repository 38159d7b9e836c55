/**
 * How a test signs a request as each sender does: one entry per `verify.type`. Where the provider
 * publishes a signing library it is used (GitHub's @octokit/webhooks-methods, the stripe SDK, the
 * standardwebhooks and svix libraries); the others (Slack, Zoom, Shopify, generic HMAC, credentials) are written
 * from the providers' documentation with node:crypto alone, so that a mistake in Sluice's own
 * signature code cannot cancel out here.
 */
import { createHmac } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';

export const nowSeconds = (offsetSeconds = 0) => Math.floor(Date.now() / 1000) + offsetSeconds;

type Headers = Record<string, string>;

/**
 * Headers that sign `body` with `secret` (a password or token for credential types) at `timestamp`
 * (Unix seconds; only timestamped types use it).
 */
export type SignAs = (secret: string, body: string, timestamp?: number) => Headers | Promise<Headers>;

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, plus its delivery id. */
export async function githubHeaders(secret: string, body: string): Promise<Headers> {
  return { 'X-Hub-Signature-256': await githubSign(secret, body), 'X-GitHub-Delivery': 'd-1' };
}

const stripeSdk = new Stripe('sk_test_unused');

/** Stripe: the SDK's own `t=<ts>,v1=<hex>` test header. */
export function stripeHeaders(secret: string, body: string, timestamp = nowSeconds()): Headers {
  return {
    'Stripe-Signature': stripeSdk.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }),
  };
}

/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`, plus its webhook id. */
export function shopifyHeaders(secret: string, body: string): Headers {
  return {
    'X-Shopify-Hmac-Sha256': createHmac('sha256', secret).update(body).digest('base64'),
    'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  };
}

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`. */
export function slackHeaders(secret: string, body: string, timestamp = nowSeconds()): Headers {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': signature };
}

/** Standard Webhooks: the standardwebhooks library's `webhook-*` headers for message `id`. */
export function standardWebhooksHeaders(
  secret: string,
  body: string,
  timestamp = nowSeconds(),
  id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
  };
}

/** The same under Svix's `svix-*` names, signed by Svix's own library. */
export function svixHeaders(secret: string, body: string, timestamp = nowSeconds(), id = 'msg_svix_1'): Headers {
  return {
    'svix-id': id,
    'svix-timestamp': String(timestamp),
    'svix-signature': new SvixWebhook(secret).sign(id, new Date(timestamp * 1000), body),
  };
}

/** Zoom: `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`. */
export function zoomHeaders(secret: string, body: string, timestamp = nowSeconds()): Headers {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-zm-request-timestamp': String(timestamp), 'x-zm-signature': signature };
}

/** Generic `hmac`: `<header>: <prefix><digest>` of the body. */
export function hmacHeaders(
  header: string,
  algorithm = 'sha256',
  encoding: 'hex' | 'base64' = 'hex',
  prefix = '',
): (secret: string, body: string) => Headers {
  return (secret, body) => ({ [header]: `${prefix}${createHmac(algorithm, secret).update(body).digest(encoding)}` });
}

/** `Authorization: Basic base64(user:password)`. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** `Authorization: Bearer <token>`. */
export function bearerHeaders(token: string): Headers {
  return { Authorization: `Bearer ${token}` };
}

/**
 * What a consumer does with a Slack or Zoom request (their docs' sample verification): the v0
 * signature must match and the timestamp be at most 5 minutes old.
 */
export function consumerVerifiesV0(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: Buffer,
): boolean {
  if (timestamp === undefined || signature === undefined) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
  return expected === signature;
}
