import { describe, expect, it } from 'vitest';
import { extractDedupeKey, parseDedupeKey, resolveDedupe } from '../../src/ingest/dedupe.js';

const body = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

describe('dedupe keys', () => {
  it('parses header and JSON pointer specs, and refuses others', () => {
    expect(parseDedupeKey('header:X-GitHub-Delivery')).toEqual({ from: 'header', name: 'x-github-delivery' });
    expect(parseDedupeKey('json:/data/object/id')).toEqual({ from: 'json', pointer: ['data', 'object', 'id'] });
    expect(parseDedupeKey('json:/a~1b/c~0d')).toEqual({ from: 'json', pointer: ['a/b', 'c~d'] });
    for (const bad of ['id', 'header:', 'header:a b', 'json:id', 'query:id'])
      expect(parseDedupeKey(bad)).toBeUndefined();
  });

  it('reads a header case-insensitively, falling back from webhook-id to svix-id', () => {
    const spec = parseDedupeKey('header:webhook-id')!;
    expect(extractDedupeKey(spec, [['Webhook-Id', 'msg_1']], new Uint8Array())).toBe('msg_1');
    expect(extractDedupeKey(spec, [['svix-id', 'msg_2']], new Uint8Array())).toBe('msg_2');
    expect(extractDedupeKey(spec, [['other', 'x']], new Uint8Array())).toBeUndefined();
  });

  it('reads a JSON pointer; no key for non-JSON bodies, missing paths or objects', () => {
    const spec = parseDedupeKey('json:/data/id')!;
    expect(extractDedupeKey(spec, [], body({ data: { id: 'evt_1' } }))).toBe('evt_1');
    expect(extractDedupeKey(spec, [], body({ data: { id: 42 } }))).toBe('42');
    expect(extractDedupeKey(spec, [], body({ data: { id: { x: 1 } } }))).toBeUndefined();
    expect(extractDedupeKey(spec, [], body({ data: null }))).toBeUndefined();
    expect(extractDedupeKey(spec, [], new TextEncoder().encode('not json'))).toBeUndefined();
  });

  it("defaults to the key of the source's verify.type, for the senders that put an id on every event", () => {
    const day = 24 * 3_600_000;
    expect(resolveDedupe({ verify: { type: 'github' } })).toEqual({
      spec: { from: 'header', name: 'x-github-delivery' },
      windowMs: day,
    });
    expect(resolveDedupe({ verify: { type: 'stripe' } })).toEqual({
      spec: { from: 'json', pointer: ['id'] },
      windowMs: day,
    });
    expect(resolveDedupe({ verify: { type: 'slack' } })).toBeUndefined();
    expect(resolveDedupe({ verify: { type: 'github' }, dedupe: false })).toBeUndefined();
  });
});
