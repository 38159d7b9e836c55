/**
 * The comparison under every check: equal inputs of any length and content, never an exception
 * for unequal lengths (crypto.timingSafeEqual throws on those), no early exit over rotation lists.
 */
import { describe, expect, it } from 'vitest';
import { anyEqual, safeEqual } from '../../../src/senders/signature.js';

describe('safeEqual', () => {
  it('is true for equal strings and bytes, false for any difference', () => {
    expect(safeEqual('sha256=abc', 'sha256=abc')).toBe(true);
    expect(safeEqual(Buffer.from([0, 1, 255]), new Uint8Array([0, 1, 255]))).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('sha256=abc', 'sha256=abd')).toBe(false);
    expect(safeEqual('abc', 'ABC')).toBe(false);
  });

  it('compares inputs of different lengths without throwing', () => {
    expect(safeEqual('a', 'a'.repeat(64))).toBe(false);
    expect(safeEqual('x'.repeat(10_000), 'x')).toBe(false);
    expect(safeEqual('', 'secret')).toBe(false);
  });

  it('anyEqual finds a match anywhere in either list', () => {
    expect(anyEqual(['a', 'b'], ['c', 'b'])).toBe(true);
    expect(anyEqual(['b'], ['b', 'c'])).toBe(true);
    expect(anyEqual(['a'], ['b', 'c'])).toBe(false);
    expect(anyEqual([], ['a'])).toBe(false);
  });
});
