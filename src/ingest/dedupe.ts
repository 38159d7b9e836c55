/**
 * Deduplication keys: where in a request the sender's own event or delivery id is, so that a
 * retried webhook is recognised. A key spec is `header:<name>` or `json:<JSON pointer>`
 * (RFC 6901, e.g. `json:/id`, `json:/data/object/id`). A sender's default key is its provider's
 * `dedupeKey` (src/senders/registry.ts).
 */
import type { HeaderPair } from '../journal/port.js';
import { headerLookup } from '../senders/provider.js';
import { providerOf } from '../senders/registry.js';
import { familyOf } from '../senders/standard-webhooks.js';
import { jsonPointerValue } from './json-pointer.js';

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
    if (spec.name === 'webhook-id') {
      // Svix sends the Standard Webhooks id as svix-id. The id is the one of the family whose signature
      // the verifier checks (read as it reads it), so an unsigned header of the other family cannot pick it.
      const signed = headerLookup(headers);
      const family = familyOf(signed);
      if (family) return signed.get(`${family}-id`) || undefined;
      return headerValue(headers, 'webhook-id') ?? headerValue(headers, 'svix-id');
    }
    return headerValue(headers, spec.name);
  }
  // Scanned in place rather than parsed: a body of any shape costs one pass (see json-pointer.ts).
  return jsonPointerValue(body, spec.pointer);
}

/** The first non-empty value of header `name` (lower case), any case on the wire. */
function headerValue(headers: readonly HeaderPair[], name: string): string | undefined {
  for (const [n, value] of headers) if (n.toLowerCase() === name && value !== '') return value;
  return undefined;
}

/**
 * What of a source's config deduplication reads (`SourceConfig` fits; spelled out here because
 * the config schema imports this module to check keys: config/source-schema.ts, destination-schema.ts).
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
