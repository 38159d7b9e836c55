/**
 * Deduplication keys: where in a request the sender's own event or delivery id is, so that a
 * retried webhook is recognised. A key spec is `header:<name>` or `json:<JSON pointer>`
 * (RFC 6901, e.g. `json:/id`, `json:/data/object/id`). A sender's default key is its provider's
 * `dedupeKey` (src/senders/registry.ts).
 */
import type { HeaderPair } from '../journal/port.js';
import { providerOf } from '../senders/registry.js';

/** Default window of a deduplicating source, when `dedupe` is not written out. */
const DEFAULT_WINDOW_MS = 24 * 3_600_000;

/** A parsed key spec. */
export type DedupeKeySpec = { from: 'header'; name: string } | { from: 'json'; pointer: string[] };

/** Parses `header:x-github-delivery` or `json:/id`; `undefined` when malformed. */
export function parseDedupeKey(text: string): DedupeKeySpec | undefined {
  const header = /^header:([A-Za-z0-9!#$%&'*+.^_`|~-]+)$/.exec(text);
  if (header) return { from: 'header', name: header[1]!.toLowerCase() };
  const json = /^json:(\/.*)$/.exec(text);
  if (json)
    return {
      from: 'json',
      pointer: json[1]!
        .slice(1)
        .split('/')
        .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')),
    };
  return undefined;
}

/**
 * The request's key under `spec`, or `undefined` when it has none (header absent, body not
 * JSON, pointer missing or not a string/number): such a request is simply not deduplicated.
 */
export function extractDedupeKey(
  spec: DedupeKeySpec,
  headers: readonly HeaderPair[],
  body: Uint8Array,
): string | undefined {
  if (spec.from === 'header') {
    for (const [name, value] of headers) if (name.toLowerCase() === spec.name && value !== '') return value;
    // Svix sends the Standard Webhooks id as svix-id.
    if (spec.name === 'webhook-id') return extractDedupeKey({ from: 'header', name: 'svix-id' }, headers, body);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  for (const token of spec.pointer) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[token];
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/**
 * What of a source's config deduplication reads (`SourceConfig` fits; spelled out here because
 * config/schema.ts imports this module to check `dedupe.key`).
 */
export interface DedupeSource {
  dedupe?: false | { key?: string | undefined; window: number } | undefined;
  verify?: { type: string } | undefined;
}

/**
 * How a source deduplicates, or `undefined` when it does not: explicit `dedupe`, else the
 * default key of its verify type (a sender known to put an id on every event), 24 h window.
 */
export function resolveDedupe(source: DedupeSource): { spec: DedupeKeySpec; windowMs: number } | undefined {
  if (source.dedupe === false) return undefined;
  const key = source.dedupe?.key ?? providerOf(source.verify?.type ?? '')?.dedupeKey;
  if (!key) return undefined;
  return { spec: parseDedupeKey(key)!, windowMs: source.dedupe?.window ?? DEFAULT_WINDOW_MS };
}
