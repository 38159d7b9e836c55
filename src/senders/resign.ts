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
 * Both are `Signer`s: header replacements for one attempt (see `forwardedHeaders` in
 * delivery/http-client.ts). Each provider writes its own format (`createResign` in stripe.ts, …).
 */
import type { Config, DestinationConfig, VerifyConfig } from '../config/schema.js';
import type { HeaderPair, StoredEvent } from '../journal/port.js';
import { headerLookup, type Signer } from './provider.js';
import { providerOf } from './registry.js';
import { unixSeconds } from './signature.js';
import { standardWebhooksHeader, standardWebhooksKey } from './standard-webhooks.js';

/** Re-signs events of the sources that set `resign: true`; other events get no replacements. */
export function createResigner(sources: Config['sources']): Signer {
  const bySource = new Map<string, (event: StoredEvent, now: number) => HeaderPair[]>();
  for (const [name, source] of Object.entries(sources)) {
    const resigner = source.resign && source.verify ? sourceResigner(source.verify) : undefined;
    if (resigner) bySource.set(name, resigner);
  }
  return (claim, now) => bySource.get(claim.event.source)?.(claim.event, now) ?? [];
}

/** Undefined for a type without a timestamp (the config refuses `resign` there). */
function sourceResigner(config: VerifyConfig): ((event: StoredEvent, now: number) => HeaderPair[]) | undefined {
  const provider = providerOf(config.type);
  if (!provider?.createResign) return undefined;
  const verify = provider.createVerifier(config);
  const resign = provider.createResign(config);
  return (event, now) => {
    const headers = headerLookup(event.headers);
    if (!verify({ headers, body: event.body, now: event.receivedAt }).ok) return [];
    return resign({ headers, body: event.body }, unixSeconds(now));
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
