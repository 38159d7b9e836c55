/** `sluice sink` durations take their unit, as the config does; a bare number is refused. */
import { describe, expect, it } from 'vitest';
import { sinkOptions } from '../../src/cli/sink-options.js';

describe('sink options', () => {
  it('reads durations with their unit', () => {
    expect(sinkOptions({ port: '9000', latency: '1.5s', 'retry-after': '2s' })).toEqual({
      port: 9000,
      latencyMs: 1500,
      retryAfter: 2,
    });
    expect(sinkOptions({ port: '0', latency: '200ms' })).toEqual({ port: 0, latencyMs: 200 });
  });

  it('refuses a bare number, saying which unit to add', () => {
    expect(() => sinkOptions({ port: '9000', latency: '1.5' })).toThrow(
      '--latency 1.5: add a unit, e.g. 1500ms or 1.5s (a bare number could be ms or seconds)',
    );
    expect(() => sinkOptions({ port: '9000', 'retry-after': '2' })).toThrow('--retry-after 2: add a unit, e.g. 5s');
    expect(() => sinkOptions({ port: '9000', latency: 'slow' })).toThrow('--latency must be a duration such as');
  });

  it('refuses a Retry-After that is not whole seconds, and checks the other flags', () => {
    expect(() => sinkOptions({ port: '9000', 'retry-after': '1500ms' })).toThrow('whole seconds: use e.g. 2s');
    expect(() => sinkOptions({})).toThrow('sink needs --port N');
    expect(() => sinkOptions({ port: '9000', 'fail-rate': '2' })).toThrow('between 0 and 1');
    expect(sinkOptions({ port: '1', status: '503', host: '::1', 'fail-rate': '0.5' })).toEqual({
      port: 1,
      status: 503,
      host: '::1',
      failRate: 0.5,
    });
  });
});
