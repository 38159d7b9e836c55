/** The event the writer micro-benchmarks append: what the load generator posts, as ingest stores it. */
import type { IncomingEvent } from '../../../src/journal/port.js';

export function benchEvent(body: Uint8Array): IncomingEvent {
  return {
    source: 'bench',
    method: 'POST',
    path: '/in/bench',
    query: '',
    headers: [
      ['host', '127.0.0.1:8080'],
      ['connection', 'keep-alive'],
      ['content-type', 'application/json'],
      ['content-length', String(body.length)],
    ],
    body: new Uint8Array(body),
    remoteAddr: '127.0.0.1',
    receivedAt: Date.now(),
    destinations: ['target'],
  };
}
