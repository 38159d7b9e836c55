/**
 * Zod field builders shared by the config schema (schema.ts) and the senders' own `verify:` variants
 * (src/senders/<provider>.ts): unit strings parsed to numbers, secrets, the replay tolerance; and
 * those the schema's own sections share (names, counts, address blocks). A leaf module, so a provider
 * or a section can describe its config without importing the whole schema.
 */
import { isIP } from 'node:net';
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
export const duration = unitString(durationHint).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: durationHint(text) });
    return z.NEVER;
  }
  return ms;
});

/** A size such as `1mb`; parsed to bytes. */
export const size = unitString(sizeHint).transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: sizeHint(text) });
    return z.NEVER;
  }
  return bytes;
});

/** A rate such as `5/s`; parsed to events per second. */
export const rate = unitString(rateHint).transform((text, ctx) => {
  const perSecond = parseRate(text);
  if (perSecond === undefined) {
    ctx.addIssue({ code: 'custom', message: rateHint(text) });
    return z.NEVER;
  }
  return perSecond;
});

/** A secret, or a list of them (rotation: any one verifies; the first one signs). Empty ones are refused. */
export const secrets = z
  .union([z.string().min(1, 'must not be empty'), z.array(z.string().min(1, 'must not be empty')).min(1)])
  .transform((s) => (Array.isArray(s) ? s : [s]));

/** A Standard Webhooks secret: `whsec_` (optional) then the key in base64. */
const standardWebhooksSecret = z
  .string()
  .min(1, 'must not be empty')
  .refine(
    (s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s.replace(/^whsec_/, '')),
    'must be whsec_ followed by the key in base64',
  );

/** One Standard Webhooks secret or a list of them (a source's `verify:`, a destination's `sign:`). */
export const standardWebhooksSecrets = z
  .union([standardWebhooksSecret, z.array(standardWebhooksSecret).min(1)])
  .transform((s) => (Array.isArray(s) ? s : [s]));

/** How far a signed timestamp may be from Sluice's clock, either way (replay window). */
export const tolerance = duration
  .refine((ms) => ms >= 1000, 'must be at least 1s: signed timestamps are in whole seconds')
  .prefault('5m');

/** A source's or destination's name. */
export const name = z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, "_" and "-" only');
export const positiveInt = z.number().int().positive();

/** An IP address or CIDR block, IPv4 or IPv6. */
export const cidr = z
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
