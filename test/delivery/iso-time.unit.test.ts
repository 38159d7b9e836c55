/**
 * `isoTime`, the `sluice-received-at` header's formatter: the same string as `toISOString()` for
 * any time, whether it reuses the minute it formatted last or not.
 */
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/delivery/http-client.js';

describe('isoTime', () => {
  it('writes what toISOString writes, in order, across seconds, minutes, hours and days', () => {
    const start = Date.UTC(2026, 11, 31, 23, 58, 59, 990);
    for (let t = start; t < start + 3 * 60_000; t += 7) expect(isoTime(t)).toBe(new Date(t).toISOString());
  });

  it('writes what toISOString writes out of order, before 1970 and past year 9999', () => {
    const times = [0, -1, -59_999, -60_000, 1_000, 59_999, 60_000, 253_402_300_799_999, 253_402_300_800_000];
    times.push(-62_167_219_200_001, 8.64e15, -8.64e15, 1_764_000_000_123, 1_764_000_000_123 + 59_876);
    for (const t of [...times, ...times.reverse()]) expect(isoTime(t)).toBe(new Date(t).toISOString());
  });

  it('fails as toISOString does for a time no Date can hold', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(isoTime(8.64e15)).toBe(new Date(8.64e15).toISOString());
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
    expect(isoTime(-8.64e15)).toBe(new Date(-8.64e15).toISOString());
    expect(() => isoTime(-8.64e15 - 1)).toThrow(RangeError);
  });
});
