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
