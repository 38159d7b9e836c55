/**
 * The config schema: the single source of Sluice's defaults and of the `Config` type.
 * Loading a file (YAML, `${VAR}`, error positions) lives in load.ts; this module only says what
 * a valid config is. Unknown keys are errors everywhere. Field builders shared with the senders'
 * `verify:` variants (units, secrets, tolerance) are in fields.ts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDedupeKey } from '../ingest/dedupe.js';
import { DEDUPED_TYPES, providerOf, TIMESTAMPED_TYPES, verifySchemas } from '../senders/registry.js';
import { duration, rate, size, standardWebhooksSecrets } from './fields.js';

const name = z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, "_" and "-" only');
const positiveInt = z.number().int().positive();
const httpMethod = z
  .string()
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));

/** An IP address or CIDR block, IPv4 or IPv6. */
const cidr = z
  .string()
  .refine((text) => parseCidr(text) !== undefined, 'must be an IP address or a CIDR block such as 10.0.0.0/8');

/** `10.0.0.0/8` → address, prefix and family; a bare address is a /32 or /128. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  return prefix <= max ? { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' } : undefined;
}

/**
 * Proxies trusted with `trust_proxy: true | N` when `trusted_proxies` is not written: only ones on
 * this machine, so that a client elsewhere can never pick its own address by sending X-Forwarded-For.
 */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['127.0.0.0/8', '::1'];

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('0.0.0.0'),
    /** 0 picks a free port (tests, benchmarks). */
    port: z.number().int().min(0).max(65535).default(8080),
    max_body: size.prefault('1mb'),
    /** How long SIGTERM waits for in-flight deliveries before it abandons them to the next start. */
    shutdown_grace: duration.prefault('10s'),
    /** A sender that has not sent its whole header block by then is cut off (slowloris). */
    headers_timeout: duration.prefault('10s'),
    /** A sender that has not sent its whole request by then is cut off. */
    request_timeout: duration.prefault('60s'),
    /**
     * Whether X-Forwarded-For names the client that `allow_ips` checks, and how many proxies may stand
     * in front. `false`: the TCP peer only. A number N: at most N proxies of ours append to it. `true`:
     * any number. Either way the header is believed only from `trusted_proxies` (default: this machine).
     */
    trust_proxy: z.union([z.boolean(), z.number().int().min(0).max(32)]).default(false),
    /**
     * The addresses or CIDR blocks of the proxies in front of Sluice. X-Forwarded-For is read only when
     * the TCP peer is one of them, from the right, past each trusted proxy, to the first address that
     * is not one: that is the client. Listing them turns X-Forwarded-For on (no `trust_proxy` needed).
     */
    trusted_proxies: z.array(cidr).optional(),
    /** Connections past this many are dropped at once: each open one holds buffers. */
    max_connections: positiveInt.default(1024),
    /**
     * Body bytes held at once across all requests being received (a declared Content-Length counts in
     * full from the start). A request that would pass it gets 503 with Retry-After and its connection closed.
     */
    max_inflight_body: size.prefault('64mb'),
  })
  .superRefine((s, ctx) => {
    if (s.max_inflight_body < s.max_body) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_inflight_body'],
        message: 'must not be smaller than max_body, or a body of the largest size would never be taken',
      });
    }
  });

const storageSchema = z
  .strictObject({
    /** The SQLite journal's file (the default backend); with `url`, only where `admin-token` is kept. */
    path: z.string().min(1).default('./data/sluice.db'),
    /**
     * A PostgreSQL journal instead of SQLite, e.g. `postgres://sluice@db.internal:5432/sluice`: several
     * nodes with the same `url` share one journal (claims, pace, pauses and holds hold across them).
     */
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/./, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /**
     * Cap on the journal file. New events are refused (503) once it is four fifths full, so that
     * delivery always has room to record its work and free space; ingest resumes by itself.
     */
    max_size: size.optional(),
    /**
     * Free space to keep on the journal's filesystem: below it new events are refused (503) while
     * delivery goes on. Default: a fifth of the filesystem, at most 64mb.
     */
    reserve: size.optional(),
  })
  .superRefine((s, ctx) => {
    // PostgreSQL manages its own space: a cap or a reserve here would be checked on no file at all.
    for (const key of ['max_size', 'reserve'] as const)
      if (s.url !== undefined && s[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `applies to the SQLite journal (storage.path), not to storage.url`,
        });
  });

const retentionSchema = z.strictObject({
  delivered: duration.prefault('7d'),
  dead: duration.prefault('30d'),
});

const retrySchema = z.strictObject({
  max_attempts: positiveInt.default(25),
  initial: duration.prefault('1s'),
  max: duration.prefault('1h'),
  max_age: duration.prefault('3d'),
  /** Longest a consumer's Retry-After may hold the destination; default `max`. */
  max_hold: duration.optional(),
});

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

// The `forward:` blocks are optional rather than prefaulted, so that a resolved config that does
// not set one prints no such key; code reads an absent block as the defaults (destinationForward, sourceForward).
const destinationForwardSchema = z.strictObject({
  query: z.boolean().default(true),
  client_headers: z.boolean().default(false),
});
const sourceForwardSchema = z.strictObject({ credentials: z.boolean().default(false) });

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

const destinationSchema = z
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

const sourceSchema = z
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

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The whole config file. */
export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    storage: storageSchema.prefault({}),
    retention: retentionSchema.prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** `pretty` (one coloured line per entry) or `json`; default pretty when stdout is a terminal, else json. */
        format: z.enum(['pretty', 'json']).optional(),
      })
      .prefault({}),
    /** The admin API (status, events, replay, pause, metrics): its own listener, never the public one. */
    admin: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port; `enabled: false` runs no admin listener at all. */
        port: z.number().int().min(0).max(65535).default(8081),
        enabled: z.boolean().default(true),
        /**
         * Bearer token of every route but the health checks. Without one, a token is made at first
         * start and kept beside the journal (`admin-token`, mode 0600), where the CLI finds it; on a
         * listener beyond loopback, set one here (other machines' operators need it).
         */
        token: z.string().min(1).optional(),
        /** Host names the admin API answers to beyond localhost, 127.0.0.1, ::1 and `host` (DNS rebinding). */
        allowed_hosts: z.array(z.string().min(1)).optional(),
      })
      .prefault({}),
    destinations: z.record(name, destinationSchema),
    sources: z.record(name, sourceSchema),
  })
  .superRefine((c, ctx) => {
    if (c.admin.enabled && !c.admin.token && !isLoopback(c.admin.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['admin', 'token'],
        message: `needed: the admin API listens on ${c.admin.host}, beyond this machine (use 127.0.0.1, or set a token)`,
      });
    }
    if (Object.keys(c.destinations).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['destinations'], message: 'at least one destination is needed' });
    }
    const paths = new Map<string, string>();
    for (const [sourceName, source] of Object.entries(c.sources)) {
      source.to.forEach((dest, i) => {
        if (!(dest in c.destinations)) {
          const at = ['sources', sourceName, 'to', ...(source.to.length > 1 ? [i] : [])];
          ctx.addIssue({ code: 'custom', path: at, message: `unknown destination "${dest}"` });
        }
      });
      if (source.path === '/healthz' || source.path === '/readyz') {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', sourceName, 'path'],
          message: `${source.path} is the health check of the public listener`,
        });
      }
      const other = paths.get(source.path);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['sources', sourceName, 'path'],
          message: `same path as source "${other}"`,
        });
      else paths.set(source.path, sourceName);
    }
  })
  // Fan-out to the same destination twice would deliver twice. Deduplicating here rather than in
  // sourceSchema keeps the indices seen by the check above equal to the positions in the file.
  .transform((c) => ({
    ...c,
    sources: Object.fromEntries(Object.entries(c.sources).map(([n, s]) => [n, { ...s, to: [...new Set(s.to)] }])),
  }));

/** A validated config, with defaults filled in and units parsed (durations in ms, sizes in bytes, rates per second). */
export type Config = z.output<typeof configSchema>;
/** One destination of a validated config. */
export type DestinationConfig = Config['destinations'][string];
/** One source of a validated config. */
export type SourceConfig = Config['sources'][string];
/** The adaptive pace of a destination, when it has one (`destinations.*.adaptive`), defaults filled in. */
export type AdaptiveConfig = NonNullable<DestinationConfig['adaptive']>;
/** Retry policy of a destination. */
export type RetryConfig = DestinationConfig['retry'];
/** How a source's requests are verified (`sources.*.verify`). */
export type VerifyConfig = NonNullable<SourceConfig['verify']>;
/** A source's explicit handshake (`sources.*.handshake`). */
export type HandshakeConfig = NonNullable<SourceConfig['handshake']>;
/** What `server.trust_proxy` says about X-Forwarded-For. */
export type TrustProxy = Config['server']['trust_proxy'];
/** What a destination's consumer gets of the sender's request (`destinations.*.forward`), defaults filled in. */
export type DestinationForward = NonNullable<DestinationConfig['forward']>;
/** What a source keeps of the sender's credentials (`sources.*.forward`), defaults filled in. */
export type SourceForward = NonNullable<SourceConfig['forward']>;

const DESTINATION_FORWARD_DEFAULTS: DestinationForward = destinationForwardSchema.parse({});
const SOURCE_FORWARD_DEFAULTS: SourceForward = sourceForwardSchema.parse({});

/** `destinations.*.forward`, or its defaults when the block is absent. */
export function destinationForward(d: Pick<Partial<DestinationConfig>, 'forward'>): DestinationForward {
  return d.forward ?? DESTINATION_FORWARD_DEFAULTS;
}

/** A destination's ordering in a word, as status and plans show it: `unordered`, `fifo` or `key <spec>`. */
export function orderingLabel(ordering: DestinationConfig['ordering']): string {
  return typeof ordering === 'object' ? `key ${ordering.key}` : ordering;
}

/** `sources.*.forward`, or its defaults when the block is absent. */
export function sourceForward(s: Pick<SourceConfig, 'forward'>): SourceForward {
  return s.forward ?? SOURCE_FORWARD_DEFAULTS;
}
