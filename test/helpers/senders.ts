/**
 * Signing as the senders do, for the providers that publish no small signing library (Slack, Zoom,
 * Shopify), written from shared/reference/senders.md with node:crypto alone, so that a mistake in
 * Sluice's own signature code cannot cancel out here.
 */
import { createHmac } from 'node:crypto';

export const nowSeconds = (offsetSeconds = 0) => Math.floor(Date.now() / 1000) + offsetSeconds;

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`. */
export function slackHeaders(secret: string, body: string, timestamp = nowSeconds()): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': signature };
}

/** Zoom: `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>`. */
export function zoomHeaders(secret: string, body: string, timestamp = nowSeconds()): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-zm-request-timestamp': String(timestamp), 'x-zm-signature': signature };
}

/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`. */
export function shopifyHeaders(secret: string, body: string): Record<string, string> {
  return {
    'X-Shopify-Hmac-Sha256': createHmac('sha256', secret).update(body).digest('base64'),
    'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  };
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
