/**
 * A source's section of the config (`sources.<name>`): the path senders post to, where its events
 * go, how its requests are verified, answered and deduplicated, and who may send. Part of the
 * config schema (schema.ts), which puts the sections together and holds the types.
 */
import { z } from 'zod';
import { parseDedupeKey } from '../ingest/dedupe.js';
import { DEDUPED_TYPES, providerOf, TIMESTAMPED_TYPES, verifySchemas } from '../senders/registry.js';
import { cidr, duration, name } from './fields.js';

const httpMethod = z
  .string()
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));

/**
 * Verification of a source's requests, against the raw body bytes. A request that fails gets 401
 * and is not stored. The signature headers are forwarded to the consumer unchanged (unless `resign`).
 * One variant per sender, each described in its own file under src/senders/ (see registry.ts).
 */
const verifySchema = z.discriminatedUnion('type', verifySchemas);

/**
 * A synchronous handshake answered by Sluice itself, never stored or forwarded. Slack's and Zoom's
 * are also enabled by `verify.type`. A GET handshake (meta, dropbox, graph) is answered even when
 * `methods` does not list GET: `methods` says which requests are events to store.
 */
const handshakeSchema = z.union(
  [
    z.enum(['graph', 'dropbox', 'slack', 'zoom']).transform((type) => ({ type })),
    z.strictObject({ type: z.enum(['graph', 'dropbox', 'slack', 'zoom']) }),
    /** `verify_token` is compared in constant time; an empty one never matches. */
    z.strictObject({ type: z.literal('meta'), verify_token: z.string() }),
  ],
  { error: 'use graph, dropbox, slack, zoom, or { type: meta, verify_token: ... }' },
);

// Optional rather than prefaulted, so that a resolved config that does not set it prints no such
// key; code reads an absent block as the defaults (sourceForward in schema.ts).
export const sourceForwardSchema = z.strictObject({ credentials: z.boolean().default(false) });

export const sourceSchema = z
  .strictObject({
    path: z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must start with "/" and use URL path characters only'),
    methods: z.array(httpMethod).min(1).default(['POST']),
    /**
     * One destination, or several: fan-out, one delivery per destination. Repeats are dropped only
     * after validation (see configSchema), so issue indices match the positions in the file.
     */
    to: z.union([name, z.array(name).min(1)]).transform((to) => (Array.isArray(to) ? to : [to])),
    response: z.strictObject({ status: z.number().int().min(200).max(299).default(202) }).prefault({}),
    verify: verifySchema.optional(),
    handshake: handshakeSchema.optional(),
    /**
     * Re-sign at each delivery attempt: the timestamped signature headers are replaced by fresh ones
     * (same provider format, current time, the first secret; Stripe and Standard Webhooks get one
     * signature per secret), so the consumer's own SDK accepts an event however long it waited.
     */
    resign: z.boolean().default(false),
    /**
     * `credentials: true` keeps the source's own credential (the Authorization of a basic or bearer
     * source), `Cookie` and `Proxy-Authorization`, which are otherwise removed before the event is
     * stored: a consumer holding them could post into Sluice, and a journal backup would hold them
     * too. Signature headers are always kept, so that the consumer can check them.
     */
    forward: sourceForwardSchema.optional(),
    /** Only these client addresses may send (see server.trusted_proxies); others get 403. */
    allow_ips: z.array(cidr).min(1).optional(),
    /**
     * Deduplication: a request whose key was seen within `window` gets the original's answer and
     * id, and is neither stored nor delivered again. `key` defaults by verify.type (GitHub delivery
     * id, Stripe event id, Shopify webhook id, webhook-id); `false` turns it off.
     */
    dedupe: z
      .union([
        z.literal(false),
        z.strictObject({
          key: z
            .string()
            .refine((k) => parseDedupeKey(k) !== undefined, 'use header:<name> or json:<JSON pointer>, e.g. json:/id')
            .optional(),
          window: duration.prefault('24h'),
        }),
      ])
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.resign && !TIMESTAMPED_TYPES.includes(s.verify?.type ?? '')) {
      ctx.addIssue({
        code: 'custom',
        path: ['resign'],
        message: `re-signing needs verify.type ${TIMESTAMPED_TYPES.join(', ')}: the others carry no timestamp to refresh`,
      });
    }
    if (s.dedupe && !s.dedupe.key && !providerOf(s.verify?.type ?? '')?.dedupeKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['dedupe', 'key'],
        message: `needed: this source has no verify.type with a default key (${DEDUPED_TYPES.join(', ')})`,
      });
    }
    if (s.handshake?.type === 'zoom' && s.verify?.type !== 'zoom') {
      ctx.addIssue({
        code: 'custom',
        path: ['handshake'],
        message:
          'the zoom handshake needs verify.type zoom: it signs with that secret, and only after the request verifies',
      });
    }
  });
