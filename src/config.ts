/**
 * The config schema: the single source of Sluice's defaults and of the `Config` type.
 * Loading a file (YAML, `${VAR}`, error positions) lives in config-load.ts; this module
 * only says what a valid config is. Unknown keys are errors everywhere.
 */
import { z } from 'zod';
import { parseDuration, parseRate, parseSize } from './units.js';

/**
 * A YAML number where a unit string belongs (`timeout: 30`) is the likeliest slip; zod's own
 * "expected string, received number" does not tell the operator that a unit is missing.
 */
const unitString = (hint: (text: string) => string) =>
  z.string({ error: (issue) => (typeof issue.input === 'number' ? hint(String(issue.input)) : undefined) });

const durationHint = (text: string) => `"${text}" is not a duration: use a number and ms, s, m, h or d, e.g. 30s`;
const sizeHint = (text: string) => `"${text}" is not a size: use a number and b, kb, mb or gb, e.g. 1mb`;
const rateHint = (text: string) => `"${text}" is not a rate: use N/s, N/m or N/h with N > 0, e.g. 5/s`;

/** A duration such as `30s`; parsed to milliseconds. */
const duration = unitString(durationHint).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: durationHint(text) });
    return z.NEVER;
  }
  return ms;
});

/** A size such as `1mb`; parsed to bytes. */
const size = unitString(sizeHint).transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: sizeHint(text) });
    return z.NEVER;
  }
  return bytes;
});

/** A rate such as `5/s`; parsed to events per second. */
const rate = unitString(rateHint).transform((text, ctx) => {
  const perSecond = parseRate(text);
  if (perSecond === undefined) {
    ctx.addIssue({ code: 'custom', message: rateHint(text) });
    return z.NEVER;
  }
  return perSecond;
});

const name = z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, "_" and "-" only');
const positiveInt = z.number().int().positive();
const httpMethod = z
  .string()
  .transform((m) => m.toUpperCase())
  .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));

const serverSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  /** 0 picks a free port (tests, benchmarks). */
  port: z.number().int().min(0).max(65535).default(8080),
  max_body: size.prefault('1mb'),
  /** How long SIGTERM waits for in-flight deliveries before it abandons them to the next start. */
  shutdown_grace: duration.prefault('10s'),
});

const storageSchema = z.strictObject({
  path: z.string().min(1).default('./data/sluice.db'),
  /** Cap on the journal file; past it ingest answers 503 instead of filling the disk. */
  max_size: size.optional(),
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
});

const destinationSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** Token bucket refill; absent means no rate limit (concurrency still applies). */
    rate: rate.optional(),
    burst: positiveInt.default(1),
    concurrency: positiveInt.default(1),
    timeout: duration.prefault('30s'),
    ordering: z.enum(['unordered', 'fifo']).default('unordered'),
    retry: retrySchema.prefault({}),
  })
  .superRefine((d, ctx) => {
    if (d.ordering === 'fifo' && d.concurrency > 1) {
      ctx.addIssue({ code: 'custom', path: ['concurrency'], message: 'fifo ordering sends one event at a time: remove concurrency or set it to 1' });
    }
    if (d.retry.initial > d.retry.max) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'initial'], message: 'must not be longer than retry.max' });
    }
  });

const sourceSchema = z.strictObject({
  path: z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must start with "/" and use URL path characters only'),
  methods: z.array(httpMethod).min(1).default(['POST']),
  /**
   * One destination, or several: fan-out, one delivery per destination. Repeats are dropped only
   * after validation (see configSchema), so issue indices match the positions in the file.
   */
  to: z.union([name, z.array(name).min(1)]).transform((to) => (Array.isArray(to) ? to : [to])),
  response: z.strictObject({ status: z.number().int().min(200).max(299).default(202) }).prefault({}),
});

/** The whole config file. */
export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    storage: storageSchema.prefault({}),
    retention: retentionSchema.prefault({}),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
    destinations: z.record(name, destinationSchema),
    sources: z.record(name, sourceSchema),
  })
  .superRefine((c, ctx) => {
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
      const other = paths.get(source.path);
      if (other) ctx.addIssue({ code: 'custom', path: ['sources', sourceName, 'path'], message: `same path as source "${other}"` });
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
/** Retry policy of a destination. */
export type RetryConfig = DestinationConfig['retry'];
