/**
 * Error types. Every error Sluice raises on purpose carries a stable `code`
 * (for logs, exit messages and, later, API responses) and the `cause` it wraps.
 * A consumer answering non-2xx is not an error: see `AttemptResult` in delivery/http-client.ts.
 */

/** Base class of Sluice's own errors. */
export class SluiceError extends Error {
  /** Stable, machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The command line is wrong (unknown command, missing or malformed argument): the CLI exits 2. */
export class UsageError extends SluiceError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** One problem found in a config file, located as precisely as the YAML allows. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. `destinations.crm.rate`; empty for the document itself. */
  path: string;
  message: string;
}

/** A config file that cannot be used; `issues` lists every problem found, not just the first. */
export class ConfigError extends SluiceError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', issues.map(formatConfigIssue).join('\n'), options);
    this.issues = issues;
  }
}

/** `file:line:column: path: message`, the form editors and terminals link to. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * The journal could not commit (disk full, read-only file, locked, I/O error).
 * Ingest answers 503 with Retry-After: the sender keeps the event and retries.
 */
export class JournalUnavailableError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOURNAL_UNAVAILABLE', message, options);
  }
}

/** Another process holds the journal: one gateway per journal file. */
export class JournalLockedError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOURNAL_LOCKED', message, options);
  }
}

/** The journal file was written by a newer Sluice (it has migrations this build does not know). */
export class JournalTooNewError extends SluiceError {
  constructor(message: string) {
    super('JOURNAL_TOO_NEW', message);
  }
}

/** A listener could not bind its address (port in use, no permission): names the listener and its config keys. */
export class ListenError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LISTEN_FAILED', message, options);
  }
}

/** This user may not create, read or write the journal where `storage.path` puts it. */
export class JournalAccessError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOURNAL_ACCESS', message, options);
  }
}

/** A request body could not be read to its end (the sender went away, or was cut off by request_timeout). */
export class BodyReadError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BODY_READ', message, options);
  }
}
