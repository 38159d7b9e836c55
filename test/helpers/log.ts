/** A real pino logger whose lines are kept in memory, to check what Sluice logs (and what it must not). */
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';

export function capturedLogger(): { logger: Logger; lines: string[]; entries(): Record<string, unknown>[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
