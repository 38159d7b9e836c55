/**
 * The resolved plan `sluice check` prints: the whole config as Sluice will run it (defaults
 * filled in, units readable again, secrets redacted), then one routing line per source.
 *
 * The output is valid YAML as a whole (the header and routing summary are comments), so an
 * operator can save it and diff it or start from it: without secrets, it loads back into the
 * same config. Pure: no I/O, no clock, no environment.
 */
import { stringify } from 'yaml';
import { redactStorageUrl } from '../journal/pg/url.js';
import { type Config, type DestinationConfig, orderingLabel, type SourceConfig } from './schema.js';
import { formatDuration, formatRate, formatSize } from './units.js';

/** What a redacted secret is printed as. */
export const REDACTED = '***';

/**
 * Config keys whose values are secrets, wherever they appear: `secret`, `token`, `password`,
 * `verify_token`, and by the same rule `signing_secret`, `api_token`, `secrets`… Matching by
 * name rather than by schema path means sections added later are covered without touching this file.
 */
const SECRET_KEY = /(?:^|_)(?:secret|token|password)s?$/i;

/**
 * URL query parameters whose names look secret (token, secret, key, password, signature, sig,
 * auth; any case, anywhere in the name). A substring match over-redacts `author` or `design`:
 * harmless in a printed plan, whereas missing `X-Api-Key` would leak a credential to a terminal or CI log.
 */
const SECRET_PARAM = /token|secret|key|pass|sig|auth/i;

/**
 * Renders the resolved plan for `config`, loaded from `file` (named in the header only).
 * Durations, sizes and rates are printed in the units an operator writes (`30s`, `1mb`, `5/s`).
 */
export function formatPlan(config: Config, file: string): string {
  const body = stringify(redact(withReadableUnits(config)), { lineWidth: 0 }).trimEnd();
  const sources = Object.values(config.sources);
  const routes =
    sources.length > 0
      ? sources.map((s) => `# ${formatRoute(s, config.destinations)}`)
      : ['# (no sources: nothing is received)'];
  // A newline in a file name would end the comment and break the YAML.
  const header = `# Resolved plan for ${file.replace(/[\r\n]+/g, ' ')}: defaults filled in, secrets redacted.`;
  return [header, body, '', '# Routing:', ...routes, ''].join('\n');
}

/**
 * One routing line: `POST /in/stripe → crm (5/s, burst 5, concurrency 2, unordered)`; a fan-out
 * lists every destination. Burst is shown only with a rate, since it means nothing without one.
 */
export function formatRoute(source: SourceConfig, destinations: Config['destinations']): string {
  const targets = source.to.map((name) => {
    const destination = destinations[name];
    return destination ? `${name} (${formatPace(destination)})` : `${name} (unknown destination)`;
  });
  return `${source.methods.join(',')} ${source.path} → ${targets.join(', ')}`;
}

function formatPace(d: DestinationConfig): string {
  const rate = d.rate === undefined ? 'no rate limit' : `${formatRate(d.rate)}, burst ${d.burst}`;
  return `${rate}, concurrency ${d.concurrency}, ${orderingLabel(d.ordering)}`;
}

/**
 * A value that looks like a token rather than a word: at least 16 characters of [A-Za-z0-9_-] with
 * a digit or both letter cases (`hooks`, `incoming-webhooks` are words; `a1b2…`, `AbCd…` are not).
 * CamelCase names are over-redacted: harmless in a printed plan.
 */
function looksLikeToken(text: string): boolean {
  return /^[A-Za-z0-9_-]{16,}$/.test(text) && (/\d/.test(text) || (/[a-z]/.test(text) && /[A-Z]/.test(text)));
}

/**
 * `text` with the secrets a URL may carry replaced by `***`: the password of its userinfo (or the
 * user, when it stands alone or looks like a token, as in `https://<token>@host`), the values of
 * secret-named or token-like query parameters, and token-like path segments (capability URLs such
 * as `/hooks/<token>`). Anything that is not an absolute URL is returned unchanged. Also meant for
 * logs that name a destination. A URL with nothing to hide comes back byte for byte, not normalised.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.username && (!url.password || looksLikeToken(url.username))) {
    url.username = REDACTED;
    changed = true;
  }
  if (url.password) {
    url.password = REDACTED;
    changed = true;
  }
  const segments = url.pathname.split('/');
  if (segments.some(looksLikeToken)) {
    url.pathname = segments.map((segment) => (looksLikeToken(segment) ? REDACTED : segment)).join('/');
    changed = true;
  }
  if (url.search.length > 1) {
    // Rewrite the raw query part by part: URLSearchParams would re-encode the untouched ones too.
    const parts = url.search
      .slice(1)
      .split('&')
      .map((part) => {
        const eq = part.indexOf('=');
        if (eq === -1) return part;
        const value = part.slice(eq + 1);
        if (!SECRET_PARAM.test(decodeParamName(part.slice(0, eq))) && !looksLikeToken(value)) return part;
        changed = true;
        return `${part.slice(0, eq)}=${REDACTED}`;
      });
    url.search = parts.join('&');
  }
  return changed ? url.href : text;
}

function decodeParamName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw; // a malformed escape: match on the raw text rather than skip the check
  }
}

/**
 * The config with parsed units turned back into text. Spreads keep every other key (including
 * ones added later) so `redact` still sees them; a unit field added later needs a line here.
 */
function withReadableUnits(config: Config) {
  return {
    ...config,
    server: {
      ...config.server,
      max_body: formatSize(config.server.max_body),
      shutdown_grace: formatDuration(config.server.shutdown_grace),
      headers_timeout: formatDuration(config.server.headers_timeout),
      request_timeout: formatDuration(config.server.request_timeout),
      max_inflight_body: formatSize(config.server.max_inflight_body),
    },
    storage: {
      ...config.storage,
      // The database's password is not shown.
      ...(config.storage.url !== undefined && { url: redactStorageUrl(config.storage.url, '(storage.url)') }),
      max_size: config.storage.max_size === undefined ? undefined : formatSize(config.storage.max_size),
    },
    retention: {
      ...config.retention,
      delivered: formatDuration(config.retention.delivered),
      dead: formatDuration(config.retention.dead),
    },
    destinations: Object.fromEntries(
      Object.entries(config.destinations).map(([name, d]) => [
        name,
        {
          ...d,
          rate: d.rate === undefined ? undefined : formatRate(d.rate),
          timeout: formatDuration(d.timeout),
          retry: {
            ...d.retry,
            initial: formatDuration(d.retry.initial),
            max: formatDuration(d.retry.max),
            max_age: formatDuration(d.retry.max_age),
          },
        },
      ]),
    ),
    sources: Object.fromEntries(
      Object.entries(config.sources).map(([name, s]) => [
        name,
        s.verify && 'tolerance' in s.verify
          ? { ...s, verify: { ...s.verify, tolerance: formatDuration(s.verify.tolerance) } }
          : s,
      ]),
    ),
  };
}

/** Deep copy with secrets hidden: values of secret-named keys, and URL credentials in any string. */
function redact(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key)) return hide(value);
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/**
 * A secret's printed form. Absent and empty values stay visible: they hide nothing, and an empty
 * secret (an unset variable behind `${TOKEN:-}`) is exactly what an operator running `check` wants to see.
 */
function hide(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return value;
  if (Array.isArray(value)) return value.map(hide);
  return REDACTED;
}
