/**
 * The operator commands' options and help texts (admin-commands.ts runs the commands; main.ts
 * parses each command's own options strictly, so an option a command does not take is an error).
 */
import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every operator command takes. */
const COMMON = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

const COMMON_USAGE = `Admin options:
  -c, --config FILE  Config file whose admin section (host, port, token) says where the API is
  --url URL          Admin API (default: $SLUICE_ADMIN_URL, else the config's admin host/port,
                     else http://127.0.0.1:8081)
  --token TOKEN      Bearer token (default: $SLUICE_ADMIN_TOKEN, else the config's admin.token,
                     else the admin-token file the gateway made beside its journal)
  --json             Print the API's JSON answer instead of a table
  -h, --help         Show this help
`;

const TIME_USAGE = 'T: ISO-8601 (2024-05-01T10:00:00Z), epoch milliseconds, or an age such as 2h (that long ago)';

/** The operator commands this module runs (main.ts, the `sluice` bin, dispatches them here), with their options. */
export const ADMIN_COMMANDS: Readonly<Record<string, { options: Options; usage: string }>> = {
  status: {
    options: { ...COMMON, watch: { type: 'boolean', short: 'w' }, interval: { type: 'string' } },
    usage: `Usage: sluice status [--watch [--interval 2s]] [admin options]

Backlog, state, rate and drain estimate per destination, from the gateway's admin API.
  -w, --watch        Redraw the table in place until Ctrl-C
  --interval D       How often --watch asks (default 2s; a duration with its unit: 500ms, 5s)

${COMMON_USAGE}`,
  },
  events: {
    options: {
      ...COMMON,
      status: { type: 'string' },
      source: { type: 'string' },
      destination: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    usage: `Usage: sluice events list [--status S] [--source NAME] [--destination NAME]
                         [--since T] [--until T] [--limit N] [--cursor C]
       sluice events show ID       (ID: the whole id, or enough of its start to be unique)
       sluice events delete ID

  S: pending, in_flight, delivered, dead
  ${TIME_USAGE}

${COMMON_USAGE}`,
  },
  replay: {
    options: {
      ...COMMON,
      destination: { type: 'string' },
      status: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'dry-run': { type: 'boolean', short: 'n' },
    },
    usage: `Usage: sluice replay ID [--destination NAME]
       sluice replay --destination NAME [--status dead|delivered] [--since T] [--until T] [--dry-run]

Delivers one event again, or every dead (or delivered) event of a destination.
  -n, --dry-run      List what a bulk replay would deliver again, and change nothing
  ${TIME_USAGE}

${COMMON_USAGE}`,
  },
  pause: {
    options: COMMON,
    usage: `Usage: sluice pause NAME

Stops sending to a destination (ingest goes on; survives restarts).

${COMMON_USAGE}`,
  },
  resume: {
    options: COMMON,
    usage: `Usage: sluice resume NAME

Sends to a destination again, and lifts a hold (a consumer's Retry-After, or the wait before probing).

${COMMON_USAGE}`,
  },
};

export const ADMIN_USAGE = `Operator commands (talk to the admin API; sluice <command> --help for details):
  status [--watch]                Backlog, state, rate and drain estimate per destination
  events list [--status S] [--source NAME] [--destination NAME]
              [--since T] [--until T] [--limit N] [--cursor C]
                                  Events, newest first (S: pending, in_flight, delivered, dead)
  events show ID                  The stored request, each delivery and every attempt
  events delete ID                Purge one event
  replay ID [--destination NAME]  Deliver one event again
  replay --destination NAME [--status dead|delivered] [--since T] [--until T] [--dry-run]
                                  Deliver again every dead (or delivered) event of a destination
  pause NAME | resume NAME        Stop / restart sending to a destination (survives restarts)

  ${TIME_USAGE}
`;
