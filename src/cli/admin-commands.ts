/**
 * The operator commands of the `sluice` CLI, which talk to the admin API:
 *
 *   sluice status                                   a table per destination (GET /destinations)
 *   sluice events list [filters] [--limit N] [--cursor C]
 *   sluice events show <id> | events delete <id>
 *   sluice replay <event-id> [--destination NAME]
 *   sluice replay --destination NAME [--status dead|delivered] [--since T] [--until T]
 *   sluice pause NAME | sluice resume NAME
 *
 * Human tables by default, `--json` prints the API's answer as is. `--url` and `--token` default
 * to SLUICE_ADMIN_URL / SLUICE_ADMIN_TOKEN, then to the config file's `admin` section
 * (host, port, token, with `${VAR}` read from the environment), then to http://127.0.0.1:8081 and,
 * for the token, to the one the gateway made beside its journal (`admin-token` next to `storage.path`).
 * Exit codes: 0 done, 1 the API refused or could not be reached, 2 the command line is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { adminTokenPath, readAdminToken } from '../admin/token.js';
import { interpolateEnv } from '../config/env.js';
import { listenUrl } from '../config/listen-url.js';
import { configRelative } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { UsageError } from '../errors.js';
import { type AdminTarget, ApiError, createAdminClient } from './admin-client.js';
import { formatEvent, formatEventPage } from './admin-format.js';
import { ADMIN_COMMANDS, ADMIN_USAGE } from './admin-options.js';
import { formatReplayPlan, replayPlan } from './replay-plan.js';
import { formatStatus, readStatus, watchInterval, watchStatus } from './status-command.js';

/** The journal's path when the config names none (the schema's `storage.path` default). */
const DEFAULT_STORAGE_PATH = './data/sluice.db';

export type AdminValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** The `-c` value when given; otherwise ./sluice.yaml is read when it exists. */
  configFile?: string | undefined;
  /** Ends `status --watch` (Ctrl-C). */
  signal?: AbortSignal;
  /** Whether `out` is a terminal: `status --watch` then redraws in place. */
  isTTY?: boolean;
}

/** Runs one operator command; resolves the exit code. Never throws. */
export async function runAdminCommand(
  command: string,
  args: string[],
  values: AdminValues,
  io: AdminIo,
): Promise<number> {
  let target: AdminTarget;
  try {
    target = resolveTarget(values, io);
  } catch (error) {
    io.err(`sluice: ${(error as Error).message}\n`);
    return 1;
  }
  const client = createAdminClient(target);
  const print = <T>(answer: T, human: (answer: T) => string) =>
    io.out(values.json === true ? `${JSON.stringify(answer, null, 2)}\n` : human(answer));

  try {
    switch (command) {
      case 'status': {
        noMore(args, 0, 'status');
        const read = () => readStatus(client);
        if (values.watch === true) {
          const intervalMs = watchInterval(flag(values, 'interval'));
          return await watchStatus(read, { url: target.url, intervalMs, json: values.json === true, ...io });
        }
        if (flag(values, 'interval') !== undefined) throw new UsageError('--interval goes with --watch');
        print(await read(), (view) => formatStatus(view, target.url, Date.now()));
        return 0;
      }
      case 'events': {
        const [sub, id] = args;
        if (sub === 'list' || sub === undefined) {
          noMore(args, 1, 'events list');
          const query = new URLSearchParams();
          for (const key of ['status', 'source', 'destination', 'limit', 'cursor'] as const) {
            const value = flag(values, key);
            if (value !== undefined) query.set(key, value);
          }
          for (const key of ['since', 'until'] as const) {
            const value = flag(values, key);
            if (value !== undefined) query.set(key, toTime(value, key));
          }
          print(await client.call('listEvents', { query }), formatEventPage);
          return 0;
        }
        if (sub === 'show' || sub === 'delete') {
          if (id === undefined) throw new UsageError(`events ${sub} needs an event id`);
          noMore(args, 2, `events ${sub}`);
          if (sub === 'show') print(await client.call('getEvent', { params: { id } }), formatEvent);
          else print(await client.call('deleteEvent', { params: { id } }), (a) => `deleted event ${a.id}\n`);
          return 0;
        }
        throw new UsageError(`unknown events command "${sub}": use events list, events show ID or events delete ID`);
      }
      case 'replay': {
        const [id] = args;
        const destination = flag(values, 'destination');
        if (id !== undefined) {
          noMore(args, 1, 'replay');
          if (values['dry-run'] === true)
            throw new UsageError('--dry-run lists what a bulk replay (replay --destination NAME) would do');
          for (const key of ['status', 'since', 'until'] as const) {
            if (flag(values, key) !== undefined)
              throw new UsageError(
                `--${key} filters a bulk replay (replay --destination NAME); it does not apply to one event`,
              );
          }
          const answer = await client.call('replayEvent', {
            params: { id },
            body: destination === undefined ? {} : { destination },
          });
          print(answer, (a) => `replayed ${plural(a.replayed, 'delivery', 'deliveries')} of event ${id}\n`);
          return 0;
        }
        if (destination === undefined)
          throw new UsageError('replay needs an event id, or --destination NAME for a bulk replay');
        if (values['dry-run'] === true) {
          const status = flag(values, 'status') ?? 'dead';
          if (status !== 'dead' && status !== 'delivered')
            throw new UsageError(`--status must be dead or delivered, got "${status}"`);
          const query = new URLSearchParams({ destination, status, limit: '500' });
          for (const key of ['since', 'until'] as const) {
            const value = flag(values, key);
            if (value !== undefined) query.set(key, toTime(value, key));
          }
          const plan = await replayPlan(client, query);
          print(plan, (p) => formatReplayPlan(p, destination, status));
          return 0;
        }
        const body: Record<string, unknown> = {};
        const status = flag(values, 'status');
        if (status !== undefined) {
          if (status !== 'dead' && status !== 'delivered')
            throw new UsageError(`--status must be dead or delivered, got "${status}"`);
          body.status = status;
        }
        for (const key of ['since', 'until'] as const) {
          const value = flag(values, key);
          if (value !== undefined) body[key] = toTime(value, key);
        }
        const answer = await client.call('replayDestination', { params: { name: destination }, body });
        print(answer, (a) => `replayed ${plural(a.replayed, 'delivery', 'deliveries')} to ${destination}\n`);
        return 0;
      }
      case 'pause':
      case 'resume': {
        const [name] = args;
        if (name === undefined) throw new UsageError(`${command} needs a destination name`);
        noMore(args, 1, command);
        print(await client.call(command, { params: { name } }), (a) => {
          const lifted = 'hold_lifted' in a && a.hold_lifted;
          return `${a.name}: ${a.state}${lifted ? ` (lifted the ${lifted.held_by} hold until ${lifted.held_until})` : ''}\n`;
        });
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`sluice: ${error.message}\n\n${ADMIN_COMMANDS[command]?.usage ?? ADMIN_USAGE}`);
      return 2;
    }
    if (error instanceof ApiError) {
      const hint =
        error.status === 401
          ? ' (set --token, SLUICE_ADMIN_TOKEN or admin.token in the config, or run where the admin-token file can be read)'
          : '';
      io.err(`sluice: ${error.message} [${error.code}]${hint}\n`);
      return 1;
    }
    io.err(`sluice: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

/** Where the admin API is and how to authenticate: flags, then environment, then the config file. */
function resolveTarget(values: AdminValues, io: AdminIo): AdminTarget {
  const fromFile = adminSection(io);
  const url = flag(values, 'url') ?? nonEmpty(io.env.SLUICE_ADMIN_URL) ?? fromFile.url ?? 'http://127.0.0.1:8081';
  const token = flag(values, 'token') ?? nonEmpty(io.env.SLUICE_ADMIN_TOKEN) ?? fromFile.token;
  try {
    new URL(url);
  } catch {
    throw new Error(`not a URL: "${url}"`);
  }
  return { url, token };
}

/**
 * The config file's `admin` section (host, port, token), read on its own: the rest of the file
 * may need secrets this shell does not have, and `sluice status` must work without them. Without
 * `admin.token`, the token the gateway made beside the journal (`storage.path`, relative to the
 * config file's directory as the gateway reads it), when this user can read it.
 */
function adminSection(io: AdminIo): { url?: string; token?: string } {
  const file = io.configFile ?? (existsSync('sluice.yaml') ? 'sluice.yaml' : undefined);
  if (file === undefined) {
    // No config: the gateway's journal is at the default path (as with `npm start` from this directory).
    const token = generatedToken(DEFAULT_STORAGE_PATH);
    return token === undefined ? {} : { token };
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `cannot read config ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`,
    );
  }
  const section = (key: string) => {
    const value = (doc as Record<string, unknown> | null)?.[key];
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  };
  const admin = section('admin');
  const read = (key: string, from = admin): string | undefined => {
    const raw = from[key];
    if (typeof raw === 'number') return String(raw);
    if (typeof raw !== 'string') return undefined;
    const { text, unset } = interpolateEnv(raw, io.env);
    return unset.length > 0 ? undefined : nonEmpty(text);
  };
  // The gateway reads a relative storage.path against the config file's directory: so does this.
  const token =
    read('token') ?? generatedToken(configRelative(read('path', section('storage')) ?? DEFAULT_STORAGE_PATH, file));
  return {
    url: listenUrl(read('host') ?? '127.0.0.1', read('port') ?? '8081'),
    ...(token !== undefined && { token }),
  };
}

/** The token file of a gateway whose journal is at `storagePath`; undefined when it cannot be read. */
function generatedToken(storagePath: string): string | undefined {
  try {
    return readAdminToken(adminTokenPath(storagePath));
  } catch {
    return undefined; // another user's file: the API's 401 then says what to do
  }
}

function flag(values: AdminValues, key: string): string | undefined {
  const value = values[key];
  if (Array.isArray(value)) throw new UsageError(`--${key} given more than once`);
  if (value === undefined || value === false) return undefined;
  if (value === true) throw new UsageError(`--${key} needs a value`);
  return value;
}

/** `2h` (that long ago) → ISO; ISO and epoch ms go to the API as they are. */
function toTime(value: string, key: string): string {
  const ago = parseDuration(value);
  if (ago !== undefined) return new Date(Date.now() - ago).toISOString();
  if (/^\d+$/.test(value) || /^\d{4}-\d{2}-\d{2}/.test(value)) return value;
  throw new UsageError(`--${key} must be ISO-8601, epoch milliseconds, or an age such as 2h; got "${value}"`);
}

function noMore(args: string[], allowed: number, command: string): void {
  if (args.length > allowed) throw new UsageError(`unexpected argument to ${command}: ${args[allowed]}`);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
