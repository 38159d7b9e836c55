/**
 * Logging: pino JSON lines on stdout. The level comes from LOG_LEVEL when set, else the config.
 */
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Creates the process logger. */
export function createLogger(level: string, env: Record<string, string | undefined> = process.env): Logger {
  return pino({ level: env.LOG_LEVEL || level, base: { service: 'sluice' } });
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
