/**
 * A destination's section of the config (`destinations.<name>`): where and how fast its events are
 * sent, in what order, how failures are retried, and what of the sender's request it gets. Part
 * of the config schema (schema.ts), which puts the sections together and holds the types.
 */
import { z } from 'zod';
import { parseDedupeKey } from '../ingest/dedupe.js';
import { duration, positiveInt, rate, standardWebhooksSecrets } from './fields.js';

const retrySchema = z.strictObject({
  max_attempts: positiveInt.default(25),
  initial: duration.prefault('1s'),
  max: duration.prefault('1h'),
  max_age: duration.prefault('3d'),
  /** Longest a consumer's Retry-After may hold the destination; default `max`. */
  max_hold: duration.optional(),
});

// The `forward:` block is optional rather than prefaulted, so that a resolved config that does
// not set it prints no such key; code reads an absent block as the defaults (destinationForward in schema.ts).
export const destinationForwardSchema = z.strictObject({
  query: z.boolean().default(true),
  client_headers: z.boolean().default(false),
});

/**
 * Adaptive pace: the destination's `rate` and `concurrency` become ceilings, and the pace under them
 * is learned from the consumer's answers (src/delivery/pacing/adaptive-pacer.ts). `true` takes the
 * defaults; the floors keep a struggling consumer from being starved altogether.
 */
const adaptiveOptionsSchema = z.strictObject({
  /** Lowest rate the pace drops to. */
  min_rate: rate.prefault('1/s'),
  /** Fewest requests at once the pace drops to. */
  min_concurrency: positiveInt.default(1),
});
const ADAPTIVE_DEFAULTS = adaptiveOptionsSchema.parse({});
const adaptiveSchema = z
  .union([z.boolean(), adaptiveOptionsSchema], {
    error: 'use true, false, or { min_rate: 1/s, min_concurrency: 1 }',
  })
  .transform((a) => (a === true ? ADAPTIVE_DEFAULTS : a === false ? undefined : a));

export const destinationSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** Token bucket refill; absent means no rate limit (concurrency still applies). */
    rate: rate.optional(),
    burst: positiveInt.default(1),
    concurrency: positiveInt.default(1),
    timeout: duration.prefault('30s'),
    /**
     * `unordered` (default), `fifo` (strict ingest order, one event at a time), or `{ key: <spec> }`:
     * strict ingest order within each key, up to `concurrency` keys at once. The key spec is written
     * as a dedupe key (`header:<name>` or `json:<JSON pointer>`); events without it form one group.
     */
    ordering: z
      .union(
        [
          z.enum(['unordered', 'fifo']),
          z.strictObject({
            key: z
              .string()
              .refine(
                (k) => parseDedupeKey(k) !== undefined,
                'use header:<name> or json:<JSON pointer>, e.g. json:/customer_id',
              ),
          }),
        ],
        { error: 'use unordered, fifo, or { key: header:<name> | json:<JSON pointer> }' },
      )
      .default('unordered'),
    retry: retrySchema.prefault({}),
    /** Learn the pace from the consumer's answers, `rate` and `concurrency` being ceilings (see adaptiveSchema). */
    adaptive: adaptiveSchema.optional(),
    /**
     * Adds a Standard Webhooks signature (webhook-id = the event id, webhook-timestamp,
     * webhook-signature) made with this destination's own secret at each attempt, so the consumer
     * can check that the request came through Sluice. Several secrets (rotation) give several signatures.
     */
    sign: z.strictObject({ secret: standardWebhooksSecrets }).optional(),
    /**
     * What of the sender's request besides its body and headers reaches this consumer.
     * `query`: the sender's query string is appended to `url` (default), minus any parameter whose
     * name `url` already has (a sender never shadows the destination's own, e.g. an api_key);
     * `false` sends `url` exactly as written. `client_headers`: by default X-Forwarded-For says
     * the address Sluice's listener saw and X-Forwarded-Host the Host it was sent to; the
     * sender's own X-Forwarded-*, Forwarded and X-Real-IP are dropped. `true` passes them on as sent.
     */
    forward: destinationForwardSchema.optional(),
  })
  .superRefine((d, ctx) => {
    if (d.ordering === 'fifo' && d.concurrency > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['concurrency'],
        message: 'fifo ordering sends one event at a time: remove concurrency or set it to 1',
      });
    }
    if (d.adaptive && d.rate !== undefined && d.adaptive.min_rate > d.rate) {
      ctx.addIssue({
        code: 'custom',
        path: ['adaptive', 'min_rate'],
        message: 'must not be above rate: rate is the ceiling the adaptive pace never passes',
      });
    }
    if (d.adaptive && d.adaptive.min_concurrency > d.concurrency) {
      ctx.addIssue({
        code: 'custom',
        path: ['adaptive', 'min_concurrency'],
        message: 'must not be above concurrency: concurrency is the ceiling the adaptive pace never passes',
      });
    }
    if (d.retry.initial > d.retry.max) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'initial'], message: 'must not be longer than retry.max' });
    }
  });
