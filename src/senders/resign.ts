/**
 * Signing on delivery. A timestamped signature (Stripe, Slack, Zoom, Standard Webhooks) goes stale
 * while an event waits in the journal: past ~5 minutes the consumer's SDK refuses it. So:
 *
 * - `resign: true` on a source: at each attempt, the signature headers are replaced by fresh ones
 *   in the provider's own format, with the attempt's time, made with the source's secret (the
 *   first one; Stripe and Standard Webhooks, which list several signatures, get one per secret).
 *   Only a request that still verifies as received (at its receivedAt) is re-signed: a stored
 *   request that never verified keeps its headers and fails at the consumer as it should.
 * - `sign:` on a destination: a Standard Webhooks signature with the destination's own secret
 *   (webhook-id = the Sluice event id, stable across attempts). It is applied after re-signing,
 *   so for the `webhook-*` names it wins.
 *
 * Both are `Signer`s: header replacements for one attempt (see `forwardedHeaders` in delivery.ts).
 */
import type { Config, DestinationConfig } from '../config/schema.js';
import type { Signer } from '../delivery/http-client.js';
import type { HeaderPair, StoredEvent } from '../journal/port.js';
import { standardWebhooksHeader, standardWebhooksKey, stripeHeader, unixSeconds, v0Signature } from './signature.js';
import { createTimestampedVerifier, isTimestamped, type TimestampedConfig } from './verify-timestamped.js';

/** Re-signs events of the sources that set `resign: true`; other events get no replacements. */
export function createResigner(sources: Config['sources']): Signer {
  const bySource = new Map<string, (event: StoredEvent, now: number) => HeaderPair[]>();
  for (const [name, source] of Object.entries(sources)) {
    if (source.resign && source.verify && isTimestamped(source.verify))
      bySource.set(name, sourceResigner(source.verify));
  }
  return (claim, now) => bySource.get(claim.event.source)?.(claim.event, now) ?? [];
}

function sourceResigner(config: TimestampedConfig): (event: StoredEvent, now: number) => HeaderPair[] {
  const verify = createTimestampedVerifier(config);
  const keys = config.type === 'standard-webhooks' ? config.secret.map(standardWebhooksKey) : [];
  const first = config.secret[0]!;
  return (event, now) => {
    const headers = lookup(event.headers);
    if (!verify({ headers, body: event.body, now: event.receivedAt }).ok) return [];
    const ts = unixSeconds(now);
    switch (config.type) {
      case 'stripe':
        return [['Stripe-Signature', stripeHeader(config.secret, ts, event.body)]];
      case 'slack':
        return [
          ['X-Slack-Request-Timestamp', ts],
          ['X-Slack-Signature', v0Signature(first, ts, event.body)],
        ];
      case 'zoom':
        return [
          ['x-zm-request-timestamp', ts],
          ['x-zm-signature', v0Signature(first, ts, event.body)],
        ];
      case 'standard-webhooks': {
        // Keep the family the sender used (webhook- or svix-), as the verifier chose it.
        const family = headers.get('webhook-signature') !== null ? 'webhook' : 'svix';
        const id = headers.get(`${family}-id`)!;
        return [
          [`${family}-timestamp`, ts],
          [`${family}-signature`, standardWebhooksHeader(keys, id, ts, event.body)],
        ];
      }
    }
  };
}

/** A destination's own Standard Webhooks signature (`sign: { secret }`). */
export function destinationSigner(sign: NonNullable<DestinationConfig['sign']>): Signer {
  const keys = sign.secret.map(standardWebhooksKey);
  return ({ event }, now) => {
    const ts = unixSeconds(now);
    return [
      ['webhook-id', event.id],
      ['webhook-timestamp', ts],
      ['webhook-signature', standardWebhooksHeader(keys, event.id, ts, event.body)],
    ];
  };
}

/** Case-insensitive lookup over stored header pairs; repeats joined with ", " as `Headers.get` does. */
function lookup(pairs: readonly HeaderPair[]): Pick<Headers, 'get'> {
  return {
    get(name) {
      const wanted = name.toLowerCase();
      const values = pairs.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
      return values.length === 0 ? null : values.join(', ');
    },
  };
}
