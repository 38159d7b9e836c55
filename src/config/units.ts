/**
 * Parsers for the units operators write in the config: durations (`1500ms`, `30s`, `7d`),
 * sizes (`1mb`) and rates (`5/s`). Small and strict on purpose: a typo must be an error,
 * not a silently different number.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const RATE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `"1500ms"`, `"30s"`, `"1.5h"` → milliseconds; `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

/** `"1mb"`, `"512kb"`, `"100b"` (case-insensitive, binary multiples) → bytes; `undefined` when malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

/** `"5/s"`, `"300/m"`, `"1000/h"` → events per second; `undefined` when malformed or zero. */
export function parseRate(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const perSecond = Number(m[1]) / RATE_UNITS[m[2]!]!;
  return perSecond > 0 ? perSecond : undefined;
}

/** Milliseconds → the largest exact unit (`90000` → `"90s"`, `3600000` → `"1h"`), for printing plans. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Bytes → the largest exact binary unit (`1048576` → `"1mb"`). */
export function formatSize(bytes: number): string {
  for (const unit of ['gb', 'mb', 'kb'] as const) {
    const size = SIZE_UNITS[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

/**
 * Events per second → the smallest unit that gives a whole count (`5` → `"5/s"`, `0.5` → `"30/m"`,
 * `1000 / 3600` → `"1000/h"`), for printing plans. Parsing divides by 60 or 3600, so the product is
 * compared with a tolerance instead of exactly. A rate that is whole in no unit (`1.5/h`) prints
 * per hour with a fraction, which `parseRate` still reads back.
 */
export function formatRate(perSecond: number): string {
  for (const unit of ['s', 'm', 'h'] as const) {
    const count = perSecond * RATE_UNITS[unit]!;
    if (Math.abs(count - Math.round(count)) < 1e-9 * Math.max(1, count)) return `${Math.round(count)}/${unit}`;
  }
  return `${Number((perSecond * RATE_UNITS.h!).toPrecision(12))}/h`;
}
