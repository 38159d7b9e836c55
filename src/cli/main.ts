#!/usr/bin/env node
/**
 * The `sluice` command. The only module that reads argv, installs signal handlers or calls
 * process.exit; everything else is a library it drives.
 *
 *   sluice start [-c sluice.yaml]   run the gateway
 *   sluice check [-c sluice.yaml]   validate a config and print the resolved plan
 *   sluice sink --port N [...]      a receiver that plays a slow or failing consumer
 *   sluice status|events|replay|pause|resume   operator commands, through the admin API (admin-commands.ts)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { formatPlan } from '../config/plan.js';
import { parseDuration } from '../config/units.js';
import { ConfigError, SluiceError, UsageError } from '../errors.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { ADMIN_COMMANDS, ADMIN_OPTIONS, ADMIN_USAGE, runAdminCommand } from './admin-commands.js';
import { startSink } from './sink.js';

const USAGE = `Usage: sluice <command> [options]

Commands:
  start [-c FILE]      Run the gateway (default config: sluice.yaml)
  check [-c FILE]      Validate a config, print the resolved plan (secrets redacted);
                       exits 1 listing every error
  sink --port N        Run a test receiver that logs what arrives
       [--host 127.0.0.1] [--latency 1500ms] [--status 200]
       [--fail-rate 0.1] [--retry-after 5]

Options:
  -c, --config FILE    Config file
  -h, --help           Show this help
  -v, --version        Show the version

${ADMIN_USAGE}`;

/** Exit codes: 0 fine, 1 the work failed (bad config, start-up error), 2 the command line is wrong. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      port: { type: 'string' },
      host: { type: 'string' },
      latency: { type: 'string' },
      'fail-rate': { type: 'string' },
      'retry-after': { type: 'string' },
      // status (shared with sink --status), json, url, token, filters: the operator commands'.
      ...ADMIN_OPTIONS,
    },
  });
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (ADMIN_COMMANDS.has(command)) {
    return runAdminCommand(command, rest, values, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
      configFile: values.config,
    });
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  const configFile = values.config ?? 'sluice.yaml';

  switch (command) {
    case 'check': {
      const config = loadConfig(configFile);
      process.stdout.write(`${configFile}: OK\n\n${formatPlan(config, configFile)}`);
      return 0;
    }
    case 'start':
      return start(configFile);
    case 'sink':
      return sink(values);
    default:
      throw new UsageError(`unknown command "${command}" (try --help)`);
  }
}

async function start(configFile: string): Promise<number> {
  const config = loadConfig(configFile);
  const logger = createLogger(config.log.level);
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

async function sink(values: Record<string, string | boolean | undefined>): Promise<number> {
  const number = (name: string, text: string | boolean | undefined): number | undefined => {
    if (typeof text !== 'string') return undefined;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${text}"`);
    return n;
  };
  const port = number('port', values.port);
  if (port === undefined) throw new UsageError('sink needs --port N');
  let latencyMs: number | undefined;
  if (typeof values.latency === 'string') {
    latencyMs = parseDuration(values.latency) ?? number('latency', values.latency);
  }
  const failRate = number('fail-rate', values['fail-rate']);
  if (failRate !== undefined && (failRate < 0 || failRate > 1))
    throw new UsageError('--fail-rate must be between 0 and 1');
  const logger = createLogger('info');
  const sinkServer = await startSink({
    port,
    ...(typeof values.host === 'string' && { host: values.host }),
    ...(latencyMs !== undefined && { latencyMs }),
    ...(values.status !== undefined && { status: number('status', values.status)! }),
    ...(failRate !== undefined && { failRate }),
    ...(values['retry-after'] !== undefined && { retryAfter: number('retry-after', values['retry-after'])! }),
    logger,
  });
  logger.info({ url: sinkServer.url }, `sink listening on ${sinkServer.url}`);
  return new Promise<number>((resolve) => {
    const stop = () => void sinkServer.close().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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
      process.stderr.write(`sluice: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    const code = error instanceof SluiceError ? ` [${error.code}]` : '';
    process.stderr.write(`sluice: ${(error as Error).message ?? String(error)}${code}\n`);
    process.exit(1);
  },
);
