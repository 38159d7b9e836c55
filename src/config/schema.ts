/**
 * The config schema: the single source of Sluice's defaults and of the `Config` type.
 * Loading a file (YAML, `${VAR}`, error positions) lives in load.ts; this module only says what
 * a valid config is. Unknown keys are errors everywhere. The destination and source sections are in
 * destination-schema.ts and source-schema.ts; field builders shared with the senders' `verify:`
 * variants (units, secrets, tolerance) and between sections (names, address blocks) in fields.ts.
 */
import { z } from 'zod';
import { destinationForwardSchema, destinationSchema } from './destination-schema.js';
import { cidr, duration, name, positiveInt, size } from './fields.js';
import { sourceForwardSchema, sourceSchema } from './source-schema.js';

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
