/** The in-place scan answers as `JSON.parse` then indexing would, on valid and invalid bodies alike. */
import { describe, expect, it } from 'vitest';
import { jsonPointerValue, MAX_JSON_DEPTH } from '../../src/ingest/json-pointer.js';

/** What the dedupe key was before the scan: parse the whole body, then index token by token. */
function byParse(text: string, pointer: string[]): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const token of pointer) {
    if (value === null || typeof value !== 'object') return undefined;
    if (Array.isArray(value) && token === 'length') return undefined; // not a key the scan knows
    value = (value as Record<string, unknown>)[token];
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

const bodies = [
  '{"id":"evt_1"}',
  ' { "id" : 42 } ',
  '{"id":-0.5e+3}',
  '{"id":1e400}',
  '{"id":"a\\"b\\u00e9\\n"}',
  '{"i\\u0064":"escaped key"}',
  '{"id":"first","id":"last"}',
  '{"data":{"id":"a"},"data":{}}',
  '{"data":{"id":"a"},"data":{"id":"b"}}',
  '{"data":{"object":{"id":"deep"}},"other":[1,2,{"id":"x"}]}',
  '{"data":[{"id":"zero"},{"id":"one"}]}',
  '{"data":{"id":null}}',
  '{"data":{"id":true}}',
  '{"data":{"id":{"x":1}}}',
  '{"data":"text"}',
  '{"données":{"id":"utf8 key"}}',
  '{"id":"evt_1"} x',
  '{"id":"evt_1",}',
  '{"id":01}',
  '{"id":"tab\there"}',
  '{"id":"\\x"}',
  '[1,2,3]',
  '"just a string"',
  'not json',
  '',
  '{"id":"a"',
  '{"id":[1,2,}',
  '\ufeff{"id":"bom"}',
  '{"__proto__":"p","constructor":"c"}',
  '{"toString":{"id":"x"}}',
];
const pointers = [
  ['id'],
  ['data', 'id'],
  ['data', 'object', 'id'],
  ['data', '0', 'id'],
  ['data', '1', 'id'],
  ['data', '01', 'id'],
  ['other', '2', 'id'],
  ['données', 'id'],
  ['__proto__'],
  ['constructor'],
  ['toString'],
  ['data'],
];

describe('jsonPointerValue', () => {
  it.each(bodies)('agrees with JSON.parse on %s', (text) => {
    const bytes = new TextEncoder().encode(text);
    for (const pointer of pointers)
      expect([pointer, jsonPointerValue(bytes, pointer)]).toEqual([pointer, byParse(text, pointer)]);
  });

  it('scans a megabyte of nested arrays within the depth bound quickly, and refuses deeper nesting', () => {
    const deep = new TextEncoder().encode(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`);
    expect(jsonPointerValue(deep, ['id'])).toBeUndefined();
    const wide = new TextEncoder().encode(`{"pad":[${'[[[]]],'.repeat(150_000)}[]],"id":"k"}`);
    const started = performance.now();
    expect(jsonPointerValue(wide, ['id'])).toBe('k');
    expect(performance.now() - started).toBeLessThan(200);
  });
});
