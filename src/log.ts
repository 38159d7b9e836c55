/**
 * Logging: pino. JSON lines on stdout for machines (a service manager, a log shipper), or
 * pino-pretty's coloured one-liners for a person at a terminal. The level comes from LOG_LEVEL
 * when set, else the config; the format from LOG_FORMAT, else the config's `log.format`, else
 * pretty when stdout is a terminal and JSON otherwise.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { GatewayEvents } from './events.js';

export type { Logger } from 'pino';

/** How log lines are written. */
export type LogFormat = 'pretty' | 'json';

export interface LoggerOptions {
  /** Whether stdout is a terminal (the default format then is pretty). */
  isTTY?: boolean;
  env?: Record<string, string | undefined>;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/** The format a logger made with these settings writes. */
export function logFormat(
  log: { format?: LogFormat | undefined },
  options: Pick<LoggerOptions, 'isTTY' | 'env'> = {},
): LogFormat {
  const fromEnv = (options.env ?? process.env).LOG_FORMAT;
  if (fromEnv === 'pretty' || fromEnv === 'json') return fromEnv;
  return log.format ?? (options.isTTY ? 'pretty' : 'json');
}

/** Creates the process logger. */
export function createLogger(
  log: { level: string; format?: LogFormat | undefined },
  options: LoggerOptions = {},
): Logger {
  const env = options.env ?? process.env;
  const settings = { level: env.LOG_LEVEL || log.level, base: { service: 'sluice' } };
  if (logFormat(log, options) === 'json') return pino(settings, options.destination ?? pino.destination(1));
  // Synchronous, in this thread: a line logged just before process.exit is not lost.
  const stream = pretty({
    sync: true,
    colorize: options.destination === undefined && options.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    // The fields on the message's line: a start-up summary stays one line per listener or destination.
    singleLine: true,
    ...(options.destination && { destination: options.destination }),
  });
  return pino(settings, stream);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Log lines for events on the bus that no emitter logs itself: an adaptive destination's pace
 * moving by more than a quarter (at info: it says why the drain got slower or faster).
 */
export function logGatewayEvents(events: GatewayEvents, logger: Logger): void {
  events.on('destination:pace', (pace) => {
    if (!pace.notable) return;
    logger.info(
      {
        destination: pace.destination,
        rate: pace.rate === undefined ? null : Math.round(pace.rate * 100) / 100,
        concurrency: pace.concurrency,
        mode: pace.mode,
        signal: pace.signal,
        signalAt: pace.at === undefined ? undefined : new Date(pace.at).toISOString(),
      },
      `pace ${pace.rate === undefined ? 'unlimited' : `${Math.round(pace.rate * 100) / 100}/s`}, ${pace.concurrency} at once (${pace.signal ?? 'start'})`,
    );
  });
}
