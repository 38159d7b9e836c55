/**
 * The `forward:` options: a source's `credentials`, a destination's `query` and `client_headers`.
 * Absent blocks read as their defaults; a partial block gets the rest filled in; unknown keys fail.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { destinationForward, sourceForward } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';

function config(...lines: string[]) {
  return parseConfig(`${lines.join('\n')}\n`, 'sluice.yaml', {});
}

const destination = ['destinations:', '  crm:', '    url: http://crm.internal/hook'];
const source = ['sources:', '  shop:', '    path: /in/shop', '    to: crm'];

describe('forward options', () => {
  it('default to no credentials, Sluice-set client headers and the query forwarded', () => {
    const c = config(...destination, ...source);
    expect(c.destinations.crm!.forward).toBeUndefined();
    expect(c.sources.shop!.forward).toBeUndefined();
    expect(destinationForward(c.destinations.crm!)).toEqual({ query: true, client_headers: false });
    expect(sourceForward(c.sources.shop!)).toEqual({ credentials: false });
  });

  it('fill in what a partial block leaves out', () => {
    const c = config(
      ...destination,
      '    forward: { client_headers: true }',
      ...source,
      '    forward: { credentials: true }',
    );
    expect(destinationForward(c.destinations.crm!)).toEqual({ query: true, client_headers: true });
    expect(sourceForward(c.sources.shop!)).toEqual({ credentials: true });
    expect(
      destinationForward(config(...destination, '    forward: { query: false }', ...source).destinations.crm!),
    ).toEqual({ query: false, client_headers: false });
  });

  it('refuses unknown keys and non-booleans', () => {
    expect(() => config(...destination, '    forward: { credentials: true }', ...source)).toThrow(ConfigError);
    expect(() => config(...destination, ...source, '    forward: { query: false }')).toThrow(ConfigError);
    expect(() => config(...destination, '    forward: { query: sometimes }', ...source)).toThrow(ConfigError);
  });
});
