/**
 * The senders Sluice knows, one `SenderProvider` each (provider.ts). The config's `verify:` union is
 * built from this list, in this order; ingest, re-signing and deduplication look providers up here.
 * A new sender is one file plus one line below.
 */
import type { z } from 'zod';
import { basic, bearer } from './auth.js';
import { github } from './github.js';
import { hmac } from './hmac.js';
import type { SenderProvider, Verifier } from './provider.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { standardWebhooks } from './standard-webhooks.js';
import { stripe } from './stripe.js';
import { zoom } from './zoom.js';

const PROVIDERS = [github, stripe, shopify, slack, standardWebhooks, zoom, hmac, basic, bearer] as const;

type Providers = typeof PROVIDERS;

/** Every provider, in the order of the `verify:` union. */
export const providers: readonly SenderProvider[] = PROVIDERS;

/** A tuple of providers → the tuple of their schemas (a generic, so the mapping keeps the tuple). */
type SchemasOf<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends SenderProvider<infer Schema> ? Schema : never;
};

/** The providers' `verify:` variants, as the tuple `z.discriminatedUnion` takes. */
export const verifySchemas = PROVIDERS.map((p) => p.schema) as unknown as SchemasOf<Providers>;

/** A validated `verify:` config (also exported from config/schema.ts as `VerifyConfig`). */
export type ProviderConfig = z.output<Providers[number]['schema']>;

/** The provider of a `verify.type`; undefined for a type no provider has. */
export function providerOf(type: string): SenderProvider | undefined {
  return providers.find((p) => p.type === type);
}

/** The types whose signature carries a timestamp: they go stale in the journal, and can be re-signed. */
export const TIMESTAMPED_TYPES = providers.filter((p) => p.createResign !== undefined).map((p) => p.type);

/** The types with a default dedupe key (a sender that puts an id on every event). */
export const DEDUPED_TYPES = providers.filter((p) => p.dedupeKey !== undefined).map((p) => p.type);

/** Builds the verifier for a source's `verify:` config. */
export function createVerifier(config: ProviderConfig): Verifier {
  return providerOf(config.type)!.createVerifier(config);
}

/** The `WWW-Authenticate` challenge a 401 carries for credential types; none for signatures. */
export function authenticateChallenge(config: ProviderConfig): string | undefined {
  return providerOf(config.type)!.challenge;
}
