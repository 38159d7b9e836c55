/** A `GET /destinations` row for formatting tests: a running destination with a small backlog. */
import type { ApiDestination } from '../../src/admin/schemas.js';

export function destinationRow(over: Partial<ApiDestination> = {}): ApiDestination {
  return {
    name: 'crm',
    state: 'running',
    pending: 3,
    in_flight: 1,
    claimed: 0,
    retrying: 0,
    dead: 0,
    delivered_last_hour: 10,
    oldest_pending_age_seconds: 5,
    rate_per_second: 1,
    eta_seconds: 4,
    held_until: null,
    held_by: null,
    ordering: 'unordered',
    pace: null,
    ...over,
  };
}
