/** Log lines: JSON for machines, pino-pretty for a person at a terminal, chosen by config, env or the terminal. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormat } from '../src/log.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('log format', () => {
  it('is pretty at a terminal and JSON otherwise, unless the config or LOG_FORMAT says', () => {
    expect(logFormat({}, { isTTY: true, env: {} })).toBe('pretty');
    expect(logFormat({}, { isTTY: false, env: {} })).toBe('json');
    expect(logFormat({ format: 'json' }, { isTTY: true, env: {} })).toBe('json');
    expect(logFormat({ format: 'pretty' }, { isTTY: false, env: {} })).toBe('pretty');
    expect(logFormat({ format: 'pretty' }, { isTTY: true, env: { LOG_FORMAT: 'json' } })).toBe('json');
  });

  it('writes one readable line per entry when pretty, one JSON object when json', () => {
    const pretty = sink();
    createLogger({ level: 'info', format: 'pretty' }, { env: {}, destination: pretty.stream }).info(
      { port: 8080 },
      'listening on 0.0.0.0:8080',
    );
    expect(pretty.text()).toMatch(/INFO.*listening on 0\.0\.0\.0:8080/);
    expect(pretty.text()).toContain('{"port":8080}'); // on the message's line
    expect(() => JSON.parse(pretty.text())).toThrow();

    const json = sink();
    createLogger({ level: 'info', format: 'json' }, { env: {}, destination: json.stream }).info({ port: 1 }, 'x');
    expect(JSON.parse(json.text())).toMatchObject({ msg: 'x', port: 1, service: 'sluice', level: 30 });
  });
});
