/** The unit parsers and printers: strict on input (a typo is an error), exact on output. */
import { describe, expect, it } from 'vitest';
import { formatDuration, formatRate, formatSize, parseDuration, parseRate, parseSize } from '../../src/config/units.js';

describe('parseDuration', () => {
  it.each([
    ['1500ms', 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['1.5h', 5_400_000],
    ['0s', 0],
    [' 30s ', 30_000],
    ['30 s', 30_000],
    ['0.0004s', 0],
    ['1.0006s', 1001],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10', '1 week', '-1s', '30S', '1e3s', 's', '', '1h30m', '.5s', '5sec', 'Infinity', '1,5s'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('parseSize', () => {
  it.each([
    ['100b', 100],
    ['512kb', 512 * 1024],
    ['1mb', 1024 ** 2],
    ['2gb', 2 * 1024 ** 3],
    ['1MB', 1024 ** 2],
    ['0.5kb', 512],
    ['1.5b', 1],
    ['0b', 0],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['10', '1 megabyte', '-1kb', '1tb', '1m', 'mb', '', '1k'])('rejects %j', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});

describe('parseRate', () => {
  it.each([
    ['5/s', 5],
    ['300/m', 5],
    ['30/m', 0.5],
    ['3600/h', 1],
    ['0.5/s', 0.5],
    ['5 / s', 5],
  ])('reads %j as %d per second', (text, perSecond) => {
    expect(parseRate(text)).toBe(perSecond);
  });

  it.each(['0/s', '0.0/m', '5', '5/d', '5/sec', '-1/s', '5/S', 'five/s', '/s', ''])('rejects %j', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1500, '1500ms'],
    [1000, '1s'],
    [90_000, '90s'],
    [5_400_000, '90m'],
    [3_600_000, '1h'],
    [86_400_000, '1d'],
    [259_200_000, '3d'],
    [90_000_000, '25h'],
  ])('prints %d ms as %j, the largest exact unit', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['1500ms', '30s', '1.5h', '7d', '36h', '0s'])('round-trips %j through parse and format', (text) => {
    const ms = parseDuration(text)!;
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('formatSize', () => {
  it.each([
    [100, '100b'],
    [1024, '1kb'],
    [1536, '1536b'],
    [1024 ** 2, '1mb'],
    [3 * 1024 ** 3, '3gb'],
    [1024 ** 4, '1024gb'],
  ])('prints %d bytes as %j, the largest exact unit', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});

describe('formatRate', () => {
  it.each([
    [5, '5/s'],
    [0.5, '30/m'],
    [2.5, '150/m'],
    [1 / 60, '1/m'],
    [1000 / 3600, '1000/h'],
    [7 / 3600, '7/h'],
    [1.5 / 3600, '1.5/h'],
    // 31 / 60 * 60 is 30.999999999999996 in floating point: still a whole 31/m.
    [31 / 60, '31/m'],
    [57 / 3600, '57/h'],
  ])('prints %d per second as %j, the smallest unit with a whole count', (perSecond, text) => {
    expect(formatRate(perSecond)).toBe(text);
  });

  it.each([
    '5/s',
    '0.5/s',
    '30/m',
    '59/m',
    '61/m',
    '1000/h',
    '7/h',
    '1.5/h',
    '0.001/h',
    '100000/h',
    '31/m',
    '57/h',
    '0.3/h',
  ])('round-trips %j through parse and format exactly', (text) => {
    const perSecond = parseRate(text)!;
    expect(parseRate(formatRate(perSecond))).toBe(perSecond);
  });
});
