/** The URL that reaches a listener from this machine: the gateway reports it, the CLI connects to it. */
import { describe, expect, it } from 'vitest';
import { listenUrl } from '../../src/config/listen-url.js';

describe('listenUrl', () => {
  it('reaches a wildcard listener through the loopback address of its family', () => {
    expect(listenUrl('0.0.0.0', 8080)).toBe('http://127.0.0.1:8080');
    // A listener on :: may be IPv6-only, so 127.0.0.1 might not reach it; ::1 always does.
    expect(listenUrl('::', 8081)).toBe('http://[::1]:8081');
  });

  it('keeps any other host, with IPv6 literals in brackets', () => {
    expect(listenUrl('127.0.0.1', 1)).toBe('http://127.0.0.1:1');
    expect(listenUrl('localhost', '8081')).toBe('http://localhost:8081');
    expect(listenUrl('::1', 9)).toBe('http://[::1]:9');
    expect(listenUrl('fe80::1', 9)).toBe('http://[fe80::1]:9');
  });
});
