/**
 * Logging: pino JSON lines on stdout. The level comes from LOG_LEVEL when set, else the config.
 */
import { type Logger, pino } from 'pino';
import type { GatewayEvents } from './events.js';

export type { Logger } from 'pino';

/** Creates the process logger. */
export function createLogger(level: string, env: Record<string, string | undefined> = process.env): Logger {
  return pino({ level: env.LOG_LEVEL || level, base: { service: 'sluice' } });
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
