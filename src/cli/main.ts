#!/usr/bin/env node
/**
 * The `sluice` command. The only module that reads argv, installs signal handlers or calls
 * process.exit; everything else is a library it drives.
 *
 *   sluice start [-c sluice.yaml]   run the gateway
 *   sluice check [-c sluice.yaml]   validate a config and print the resolved plan
 *   sluice sink --port N [...]      a receiver that plays a slow or failing consumer
 *   sluice status|events|replay|pause|resume   operator commands, through the admin API (admin-commands.ts)
 *
 * Each command has its own options, parsed strictly: an option the command does not take is an
 * error (exit 2), never silently ignored (`start --port 18095` must not start on 8080).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { formatPlan } from '../config/plan.js';
import { ConfigError, SluiceError, UsageError } from '../errors.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { packageVersion } from '../version.js';
import { runAdminCommand } from './admin-commands.js';
import { ADMIN_COMMANDS, ADMIN_USAGE } from './admin-options.js';
import { startSink } from './sink.js';
import { sinkOptions } from './sink-options.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const DEFAULT_CONFIG = 'sluice.yaml';
const EXAMPLE_CONFIG = 'sluice.example.yaml';

const USAGE = `Usage: sluice <command> [options]      (sluice <command> --help for its options)

Commands:
  start [-c FILE]      Run the gateway (default config: ${DEFAULT_CONFIG})
  check [-c FILE]      Validate a config, print the resolved plan (secrets redacted);
                       exits 1 listing every error
  sink --port N        Run a test receiver that logs what arrives
       [--host 127.0.0.1] [--latency 1500ms] [--status 200]
       [--fail-rate 0.1] [--retry-after 5s]

Options:
  -h, --help           Show this help
  -v, --version        Show the version

${ADMIN_USAGE}`;

const HELP = { help: { type: 'boolean', short: 'h' } } as const satisfies Options;
const CONFIG = { config: { type: 'string', short: 'c' } } as const satisfies Options;

/** The local commands: their options and help. */
const LOCAL_COMMANDS: Record<string, { options: Options; usage: string }> = {
  start: {
    options: { ...HELP, ...CONFIG },
    usage: `Usage: sluice start [-c FILE]

Runs the gateway: the ingest listener (server.host:server.port) and the admin API
(admin.host:admin.port), both set in the config file. Stops on SIGINT/SIGTERM: new events get
503 while in-flight deliveries finish within server.shutdown_grace.

Options:
  -c, --config FILE    Config file (default: ${DEFAULT_CONFIG} in the working directory)
  -h, --help           Show this help
`,
  },
  check: {
    options: { ...HELP, ...CONFIG },
    usage: `Usage: sluice check [-c FILE]

Validates a config file and prints the resolved plan (defaults filled in, secrets redacted).
Exits 1 listing every error with file, line and key.

Options:
  -c, --config FILE    Config file (default: ${DEFAULT_CONFIG} in the working directory)
  -h, --help           Show this help
`,
  },
  sink: {
    options: {
      ...HELP,
      port: { type: 'string' },
      host: { type: 'string' },
      latency: { type: 'string' },
      status: { type: 'string' },
      'fail-rate': { type: 'string' },
      'retry-after': { type: 'string' },
    },
    usage: `Usage: sluice sink --port N [options]

A test receiver that plays a slow or failing consumer, logging each request it answers.

Options:
  --port N             Port to listen on (0: any free port)
  --host HOST          Interface (default 127.0.0.1)
  --latency D          Hold each request this long before answering: a duration with its
                       unit, e.g. 1500ms or 1.5s (default 0ms)
  --status CODE        Status of the answers (default 200)
  --fail-rate P        Probability (0..1) of answering 503 instead
  --retry-after D      Retry-After on non-2xx answers, in whole seconds with the unit, e.g. 5s
  -h, --help           Show this help
`,
  },
};

/** Exit codes: 0 fine, 1 the work failed (bad config, start-up error), 2 the command line is wrong. */
async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command.startsWith('-')) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { ...HELP, version: { type: 'boolean', short: 'v' } },
    });
    if (values.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const admin = ADMIN_COMMANDS[command];
  const local = LOCAL_COMMANDS[command];
  if (!admin && !local) throw new UsageError(`unknown command "${command}" (try sluice --help)`);
  const spec = (admin ?? local)!;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv.slice(1), options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CommandUsageError(`${command}: ${usageMessage(error as Error & { code?: string })}`, spec.usage);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(spec.usage);
    return 0;
  }
  if (admin) {
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      return await runAdminCommand(command, positionals, values, {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        env: process.env,
        configFile: typeof values.config === 'string' ? values.config : undefined,
        signal: stop.signal,
        isTTY: process.stdout.isTTY === true,
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  if (positionals.length > 0) throw new CommandUsageError(`unexpected argument: ${positionals[0]}`, spec.usage);

  switch (command) {
    case 'check': {
      const configFile = configFileOf(values.config);
      const config = loadConfig(configFile);
      process.stdout.write(`${configFile}: OK\n\n${formatPlan(config, configFile)}`);
      return 0;
    }
    case 'start':
      return start(configFileOf(values.config));
    default:
      return sink(values);
  }
}

/** A usage error of one command: its own help follows the message. */
class CommandUsageError extends UsageError {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/**
 * The config file to read. Without `-c`, ./sluice.yaml; when that is missing, the error says what
 * was looked for, where, and how to start from the example the repository ships.
 */
function configFileOf(flag: unknown): string {
  if (typeof flag === 'string') return flag;
  if (existsSync(DEFAULT_CONFIG)) return DEFAULT_CONFIG;
  const where = resolve(DEFAULT_CONFIG);
  const hint = existsSync(EXAMPLE_CONFIG)
    ? `to run the example: sluice start -c ${EXAMPLE_CONFIG}\n  to make your own:  cp ${EXAMPLE_CONFIG} ${DEFAULT_CONFIG}`
    : `name a config file with -c FILE (the repository's ${EXAMPLE_CONFIG} is a starting point)`;
  throw new SluiceError('CONFIG_NOT_FOUND', `no config file: looked for ${where} (the default without -c)\n  ${hint}`);
}

async function start(configFile: string): Promise<number> {
  const config = loadConfig(configFile);
  const logger = createLogger(config.log, { isTTY: process.stdout.isTTY === true });
  const gateway = await startGateway({ config, logger });
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      logger.info({ signal }, 'signal received');
      gateway.close().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function sink(values: Record<string, unknown>): Promise<number> {
  const options = sinkOptions(values);
  const logger = createLogger({ level: 'info' }, { isTTY: process.stdout.isTTY === true });
  const sinkServer = await startSink({ ...options, logger });
  logger.info({ url: sinkServer.url }, `sink listening on ${sinkServer.url}`);
  return new Promise<number>((resolve) => {
    const stop = () => void sinkServer.close().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `sluice 0.1.0 (node v20.20.0)`: the name says what answered, the node version what runs it. */
function version(): string {
  const pkg = packageVersion();
  return `${pkg.name} ${pkg.version} (node ${process.version})`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${error.message}\n${error.issues.length} error${error.issues.length === 1 ? '' : 's'} in config\n`,
      );
      process.exit(1);
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const usage = error instanceof CommandUsageError ? error.usage : USAGE;
      process.stderr.write(`sluice: ${(error as Error).message}\n\n${usage}`);
      process.exit(2);
    }
    const code = error instanceof SluiceError ? ` [${error.code}]` : '';
    process.stderr.write(`sluice: ${(error as Error).message ?? String(error)}${code}\n`);
    process.exit(1);
  },
);

/**
 * parseArgs's message for an unknown option goes on about positional arguments that start with a
 * dash; what the operator needs is the option it did not know (its help follows).
 */
function usageMessage(error: Error & { code?: string }): string {
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) return `unknown option ${unknown[1]}`;
  return error.message;
}
