/**
 * `sluice sink`'s command-line options, read into `SinkOptions`. Durations take their unit, as in
 * the config file (`1500ms`, `1.5s`, `5s`): a bare number is refused, since `--latency 1.5` (ms?)
 * and `--retry-after 2` (seconds?) read differently to different people.
 */
import { parseDuration } from '../config/units.js';
import { UsageError } from '../errors.js';
import type { SinkOptions } from './sink.js';

/** The sink's options from parsed flags; throws `UsageError` naming the flag at fault. */
export function sinkOptions(values: Record<string, unknown>): Omit<SinkOptions, 'logger' | 'random'> {
  const text = (name: string): string | undefined => {
    const value = values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new UsageError(`--${name} needs a value`);
    return value;
  };
  const number = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
    return n;
  };
  const duration = (name: string, example: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
    const bare = value.trim() !== '' && Number.isFinite(Number(value));
    throw new UsageError(
      bare
        ? `--${name} ${value}: add a unit, e.g. ${example} (a bare number could be ms or seconds)`
        : `--${name} must be a duration such as ${example} (ms, s, m, h), got "${value}"`,
    );
  };

  const port = number('port');
  if (port === undefined) throw new UsageError('sink needs --port N');
  const latencyMs = duration('latency', '1500ms or 1.5s');
  const retryAfterMs = duration('retry-after', '5s');
  if (retryAfterMs !== undefined && retryAfterMs % 1000 !== 0)
    throw new UsageError(`--retry-after is sent in whole seconds: use e.g. ${Math.ceil(retryAfterMs / 1000)}s`);
  const failRate = number('fail-rate');
  if (failRate !== undefined && (failRate < 0 || failRate > 1))
    throw new UsageError('--fail-rate must be between 0 and 1');
  const status = number('status');
  const host = text('host');
  return {
    port,
    ...(host !== undefined && { host }),
    ...(latencyMs !== undefined && { latencyMs }),
    ...(status !== undefined && { status }),
    ...(failRate !== undefined && { failRate }),
    ...(retryAfterMs !== undefined && { retryAfter: retryAfterMs / 1000 }),
  };
}
