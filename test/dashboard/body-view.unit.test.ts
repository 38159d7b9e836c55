import { describe, expect, it } from 'vitest';
import { bodyView, hexView } from '../../src/dashboard/body-view.js';

describe('bodyView', () => {
  it('indents JSON, also +json types', () => {
    expect(bodyView('{"a":1,"b":[2]}', 'utf8', 'application/json; charset=utf-8')).toEqual({
      kind: 'json',
      text: '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}',
      truncated: false,
    });
    expect(bodyView('{"a":1}', 'utf8', 'application/vnd.api+json').kind).toBe('json');
  });

  it('shows a body that claims JSON but is not as it came', () => {
    expect(bodyView('{nope', 'utf8', 'application/json')).toEqual({ kind: 'text', text: '{nope', truncated: false });
  });

  it('shows JSON as it came: integers past 2^53, repeated keys and escapes verbatim', () => {
    const body = '{"id":9223372036854775807,"amount":1.10,"id":"again","name":"caf\\u00e9","n":[1e3,-0,{}]}';
    expect(bodyView(body, 'utf8', 'application/json').text).toBe(
      [
        '{',
        '  "id": 9223372036854775807,',
        '  "amount": 1.10,',
        '  "id": "again",',
        '  "name": "caf\\u00e9",',
        '  "n": [',
        '    1e3,',
        '    -0,',
        '    {}',
        '  ]',
        '}',
      ].join('\n'),
    );
    // What JSON.parse refuses is no JSON here either.
    for (const notJson of ['[1,2,]', '{"a" 1}', '{"a":1}{}', '01', '"tab\there"', '{"a":1'])
      expect(bodyView(notJson, 'utf8', 'application/json'), notJson).toEqual({
        kind: 'text',
        text: notJson,
        truncated: false,
      });
  });

  it('cuts a long JSON body at the text limit and says so', () => {
    const items = Array.from(
      { length: 30_000 },
      (_, i) => `{"id":${2n ** 60n + BigInt(i)},"note":"${'x'.repeat(i % 7)}"}`,
    );
    const body = `[${items.join(',')}]`;
    expect(body.length).toBeGreaterThan(256 * 1024);
    const view = bodyView(body, 'utf8', 'application/json');
    expect(view).toMatchObject({ kind: 'json', truncated: true });
    expect(view.text.replace(/\s/g, '').length).toBeLessThanOrEqual(256 * 1024);
    expect(view.text.startsWith('[\n  {\n    "id": 1152921504606846976,\n    "note": ""\n  },')).toBe(true);
    // Nesting to the limit: the indentation stops growing the text past its own bound.
    for (const depth of [200_000, 300 * 1024]) {
      const deep = bodyView('['.repeat(depth), 'utf8', 'application/json');
      expect(deep.truncated, `${depth}`).toBe(true);
      expect(deep.text.length, `${depth}`).toBeLessThan(2 * 1024 * 1024);
    }
    // A cut inside a string shows what there is of it.
    const cutInString = bodyView(`{"a":"${'y'.repeat(300 * 1024)}"}`, 'utf8', 'application/json');
    expect(cutInString).toMatchObject({ kind: 'json', truncated: true });
    expect(cutInString.text.startsWith('{\n  "a": "yyy')).toBe(true);
  });

  it('lists a form one decoded field a line', () => {
    expect(bodyView('a=1&b=hello+world&c=%C3%A9', 'utf8', 'application/x-www-form-urlencoded').text).toBe(
      'a = 1\nb = hello world\nc = é',
    );
  });

  it('indents XML by nesting', () => {
    const view = bodyView('<?xml version="1.0"?><a><b>x</b><c/></a>', 'utf8', 'text/xml');
    expect(view.kind).toBe('xml');
    expect(view.text).toBe('<?xml version="1.0"?>\n<a>\n  <b>x</b>\n  <c/>\n</a>');
  });

  it('dumps binary (base64 in the API) as hex with offsets and ASCII', () => {
    const body = Buffer.from([0, 1, 0x41, 0xff, ...Buffer.from('hello world, more')]).toString('base64');
    const view = bodyView(body, 'base64', 'application/octet-stream');
    expect(view.kind).toBe('hex');
    expect(view.text.split('\n')[0]).toBe(
      '00000000  00 01 41 ff 68 65 6c 6c 6f 20 77 6f 72 6c 64 2c  ..A.hello world,',
    );
    expect(view.text.split('\n')[1]).toMatch(/^00000010 {2}20 6d 6f 72 65/);
  });

  it('stops a long hex dump and says so', () => {
    const view = hexView(new Uint8Array(10_000));
    expect(view.truncated).toBe(true);
    expect(view.text.split('\n')).toHaveLength(256);
  });

  it('shows other text as it is, and an empty body as empty', () => {
    expect(bodyView('plain', 'utf8', undefined)).toEqual({ kind: 'text', text: 'plain', truncated: false });
    expect(bodyView('', 'utf8', 'application/json').kind).toBe('empty');
  });
});
