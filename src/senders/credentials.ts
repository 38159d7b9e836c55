/**
 * Headers that carry a sender's credential rather than a signature: whoever holds their value can
 * post as the sender, or act as its user. Ingest leaves them out of the journal (unless the source
 * sets `forward.credentials`), so they reach neither the consumer nor a backup of the journal; the
 * admin API and `sluice events show` print them redacted, also those of events stored before.
 */
import type { HeaderPair } from '../journal/port.js';
import { type ProviderConfig, providerOf, providers } from './registry.js';

/** Credentials whatever the source: a browser's login cookie, a proxy login. */
const ANY_SOURCE = ['cookie', 'proxy-authorization'];

/** What redacted credentials are shown as. */
export const REDACTED_CREDENTIAL = '[redacted]';

/** Every name any provider declares, plus Authorization whatever the source: what admin output hides. */
const SHOWN_REDACTED: ReadonlySet<string> = new Set([
  'authorization',
  ...ANY_SOURCE,
  ...providers.flatMap((p) => p.credentialHeaders ?? []),
]);

/** The headers (lower case) that ingest drops for a source verified by `verify` (or not verified). */
export function credentialHeaders(verify: ProviderConfig | undefined): ReadonlySet<string> {
  return new Set([...ANY_SOURCE, ...((verify && providerOf(verify.type)?.credentialHeaders) ?? [])]);
}

/** `headers` without those named in `names` (lower case); the same array when none is there. */
export function withoutHeaders(headers: HeaderPair[], names: ReadonlySet<string>): HeaderPair[] {
  if (!headers.some(([name]) => names.has(name.toLowerCase()))) return headers;
  return headers.filter(([name]) => !names.has(name.toLowerCase()));
}

/**
 * `headers` with credential values replaced: `Authorization: Basic [redacted]` (the scheme stays,
 * it tells how the sender authenticated), `Cookie: [redacted]`.
 */
export function redactCredentials(headers: readonly HeaderPair[]): HeaderPair[] {
  return headers.map(([name, value]) => {
    if (!SHOWN_REDACTED.has(name.toLowerCase())) return [name, value];
    const scheme = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +\S/.exec(value)?.[1];
    return [name, scheme ? `${scheme} ${REDACTED_CREDENTIAL}` : REDACTED_CREDENTIAL];
  });
}
