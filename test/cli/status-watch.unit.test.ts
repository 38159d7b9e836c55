/**
 * `sluice status --watch`: redraws the table in place at a terminal, keeps going while the gateway
 * does not answer, and ends cleanly (exit 0) on Ctrl-C, here the abort signal main.ts fires on SIGINT
 * (test/cli/status.test.ts sends the built command a real SIGINT).
 */
import { describe, expect, it } from 'vitest';
import { watchInterval, watchStatus } from '../../src/cli/status-command.js';
import { destinationRow } from '../helpers/api-rows.js';

const row = destinationRow();

describe('status --watch', () => {
  it('redraws in place until aborted, and survives a gateway that does not answer', async () => {
    const stop = new AbortController();
    let out = '';
    let asked = 0;
    const rows = async () => {
      asked += 1;
      if (asked === 2) throw new Error('cannot reach the admin API at http://127.0.0.1:8081: ECONNREFUSED');
      if (asked === 4) stop.abort();
      return { destinations: [{ ...row, pending: asked }] };
    };
    const code = await watchStatus(rows, {
      url: 'http://127.0.0.1:8081',
      intervalMs: 10,
      json: false,
      isTTY: true,
      signal: stop.signal,
      out: (text) => void (out += text),
    });
    expect(code).toBe(0);
    expect(asked).toBe(4);
    // Three frames drawn (the fourth answer came after Ctrl-C), each from the top of the screen.
    expect(out.split('\x1b[H')).toHaveLength(4);
    expect(out).toContain('ECONNREFUSED');
    expect(out).toContain('every 10ms, Ctrl-C to stop');
    expect(out.endsWith('\x1b[?25h')).toBe(true); // the cursor is shown again
  });

  it('prints one table after another when not at a terminal', async () => {
    const stop = new AbortController();
    let out = '';
    let asked = 0;
    await watchStatus(
      async () => {
        if (++asked === 2) setTimeout(() => stop.abort(), 0);
        return { destinations: [row] };
      },
      { url: 'http://x', intervalMs: 20, json: false, signal: stop.signal, out: (t) => void (out += t) },
    );
    expect(out).not.toContain('\x1b');
    expect(out.match(/^gateway http:\/\/x at /gm)).toHaveLength(2);
  });

  it('takes --interval with its unit only', () => {
    expect(watchInterval(undefined)).toBe(2_000);
    expect(watchInterval('500ms')).toBe(500);
    expect(() => watchInterval('5')).toThrow('a duration with its unit');
    expect(() => watchInterval('10ms')).toThrow('at least 100ms');
  });
});
