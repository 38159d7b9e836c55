/**
 * Ordering keys (`destinations.*.ordering: { key }`): read at ingest, stored with each delivery, so
 * that claiming never parses a body. A key spec has the syntax of a dedupe key and is read by the
 * same code (dedupe.ts). Only the destinations that order by key cost anything: a source with none
 * of them gets no extractor at all.
 */
import type { DestinationConfig } from '../config/schema.js';
import type { HeaderPair } from '../journal/port.js';
import { type DedupeKeySpec, extractDedupeKey, parseDedupeKey } from './dedupe.js';

/** The ordering keys of one request, by destination; only the destinations where a key was found. */
export type OrderKeyReader = (headers: readonly HeaderPair[], body: Uint8Array) => Record<string, string> | undefined;

/** The key spec of a destination ordered by key, as written; `undefined` for unordered and fifo ones. */
export function orderingKeyOf(destination: Pick<DestinationConfig, 'ordering'>): string | undefined {
  return typeof destination.ordering === 'object' ? destination.ordering.key : undefined;
}

/**
 * The reader for a source delivering to `to`, or `undefined` when none of them orders by key.
 * Destinations with the same spec share one extraction. An empty value counts as no key, as an
 * empty header does for deduplication.
 */
export function createOrderKeyReader(
  to: readonly string[],
  destinations: Readonly<Record<string, Pick<DestinationConfig, 'ordering'>>>,
): OrderKeyReader | undefined {
  const bySpec = new Map<string, { spec: DedupeKeySpec; destinations: string[] }>();
  for (const name of to) {
    const text = destinations[name] && orderingKeyOf(destinations[name]);
    if (text === undefined) continue;
    // The schema checked the syntax, so parsing cannot fail here.
    const entry = bySpec.get(text) ?? { spec: parseDedupeKey(text)!, destinations: [] };
    entry.destinations.push(name);
    bySpec.set(text, entry);
  }
  if (bySpec.size === 0) return undefined;
  const specs = [...bySpec.values()];
  return (headers, body) => {
    let keys: Record<string, string> | undefined;
    for (const { spec, destinations: names } of specs) {
      const key = extractDedupeKey(spec, headers, body);
      if (!key) continue;
      keys ??= {};
      for (const name of names) keys[name] = key;
    }
    return keys;
  };
}
