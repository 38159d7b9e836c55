/**
 * Reading a config file: YAML with positions, `${VAR}` from the environment, then the zod
 * schema. Every problem becomes a `ConfigIssue` naming file, line, column and key path, and
 * all of them are reported at once, so an operator fixes a file in one pass.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  Scalar,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { type Env, interpolateEnv } from './env.js';
import { closestKey, issueMessage, keysAt, syntaxHint } from './messages.js';
import { type Config, configSchema } from './schema.js';

export type { Env } from './env.js';

/** Reads, interpolates and validates a config file; throws `ConfigError` listing every problem. */
export function loadConfig(file: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT'
        ? `file not found (looked for ${resolve(file)})`
        : String(cause);
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `cannot read config: ${reason}` }], {
      cause,
    });
  }
  return resolvePaths(parseConfig(text, file, env), file);
}

/**
 * A relative `storage.path` is relative to the config file's directory, as an `include` would be:
 * the journal must not move with the directory the gateway happens to be started from.
 */
export function resolvePaths(config: Config, file: string): Config {
  return { ...config, storage: { ...config.storage, path: configRelative(config.storage.path, file) } };
}

/** `path` as written in the config file `file`: absolute as it is, relative to the file's directory otherwise. */
export function configRelative(path: string, file: string): string {
  return isAbsolute(path) ? path : resolve(dirname(resolve(file)), path);
}

/** Same as `loadConfig`, for a config already in memory; `file` is only used in messages. */
export function parseConfig(text: string, file: string, env: Env = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number | undefined, path: string, message: string): ConfigIssue => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file, line: pos.line, column: pos.col, path, message };
  };

  if (doc.errors.length > 0) {
    // A duplicate key still sits in the tree, so it can be named; other syntax errors have no reliable key.
    const issues = doc.errors.map((e) =>
      at(e.pos[0], e.code === 'DUPLICATE_KEY' ? keyPathAt(doc, e.pos[0]) : '', e.message.split('\n')[0]!),
    );
    const duplicates = issues.filter((_, i) => doc.errors[i]!.code === 'DUPLICATE_KEY');
    if (duplicates.length === issues.length) throw new ConfigError(issues);
    // One syntax error throws the parser off for the rest of the file (an unquoted `${PORT:-8080}` in
    // a flow map gave 49): only the first is worth reading, with a hint when its line shows the cause.
    const first = issues.find((_, i) => doc.errors[i]!.code !== 'DUPLICATE_KEY')!;
    const hint = syntaxHint(text.split('\n')[first.line - 1] ?? '');
    const more = issues.length - 1;
    const message = `${first.message}${hint ? `; ${hint}` : ''}${more > 0 ? ` (and ${more} more error${more === 1 ? '' : 's'} that may follow from it)` : ''}`;
    throw new ConfigError([{ ...first, message }]);
  }

  const issues = interpolateScalars(doc, env, at);
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (result.success && issues.length === 0) return result.data;
  if (!result.success) {
    // A key whose variable is unset already has its issue; its schema complaint would only repeat it.
    const unset = new Set(issues.map((i) => i.path));
    const schemaIssues = result.error.issues.flatMap((issue) => locate(doc, issue, at));
    issues.push(...schemaIssues.filter((i) => !unset.has(i.path)));
  }
  throw new ConfigError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
}

type At = (offset: number | undefined, path: string, message: string) => ConfigIssue;

/** Replaces `${VAR}` and `${VAR:-default}` in every string scalar; an unset variable without default is an issue. */
function interpolateScalars(doc: Document, env: Env, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const { text, unset } = interpolateEnv(node.value, env);
      for (const name of unset) {
        issues.push(at(node.range?.[0], keyPath([...path, node]), `environment variable ${name} is not set`));
      }
      // An unquoted `port: ${PORT}` means what `port: 8080` would: read the result as YAML reads a plain
      // scalar (numbers, booleans), as docker compose does. Quoting keeps it a string.
      node.value = node.type === Scalar.PLAIN && unset.length === 0 ? plainScalar(text) : text;
    },
  });
  return issues;
}

/** What a plain (unquoted) scalar with this text resolves to: a number or boolean, else the text itself. */
function plainScalar(text: string): unknown {
  const doc = parseDocument(text);
  const value = doc.errors.length === 0 && isScalar(doc.contents) ? doc.contents.value : undefined;
  return typeof value === 'number' || typeof value === 'boolean' ? value : text;
}

/**
 * Dotted key path of the last node in `chain` (the ancestors `visit` hands over, then the node).
 * Sequence items count by index, so the path matches the one zod reports for the same value.
 */
function keyPath(chain: readonly unknown[]): string {
  const keys: (string | number)[] = [];
  chain.forEach((a, i) => {
    if (isPair(a) && isScalar(a.key)) keys.push(String(a.key.value));
    else if (isSeq(a) && i + 1 < chain.length) keys.push(a.items.indexOf(chain[i + 1]));
  });
  return keys.join('.');
}

/** Dotted key path of the map key that starts at `offset` (where yaml reports a duplicate key). */
function keyPathAt(doc: Document, offset: number): string {
  let found = '';
  visit(doc, {
    Pair(_key, pair, path) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = keyPath([...path, pair]);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Turns one zod issue into positioned issues (one per unknown key). */
function locate(doc: Document, issue: z.core.$ZodIssue, at: At): ConfigIssue[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const dotted = (p: (string | number)[]) => p.join('.');

  if (issue.code === 'unrecognized_keys') {
    const parent = doc.getIn(path, true);
    return issue.keys.map((key) => {
      const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
      const keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
      // A key already in the map is no suggestion: `prot` next to `port` is not a misspelt `port`.
      const present = new Set(
        isMap(parent) ? parent.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')) : [],
      );
      const suggestion = closestKey(
        key,
        keysAt(configSchema, path).filter((k) => !present.has(k)),
      );
      return at(
        keyNode?.range?.[0],
        dotted([...path, key]),
        `unknown key${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
      );
    });
  }

  // Walk down as far as the document goes: a missing key is reported at the map that lacks it.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node) {
      const message = depth < path.length ? missingMessage(issue) : issueMessage(issue);
      return [at((node as Node).range?.[0], dotted(path), message)];
    }
  }
  // Nothing to point at: the document is empty, so every required top-level key is missing.
  return [at(0, dotted(path), path.length > 0 ? missingMessage(issue) : issueMessage(issue))];
}

/**
 * Message for an issue whose key is absent from the file. An absent value fails a plain type as
 * `invalid_type` and a union (`to`) as `invalid_union`; both mean the key is missing. Other codes
 * (a cross-field check on a defaulted key, e.g. `retry.initial`) keep their own message.
 */
function missingMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' || issue.code === 'invalid_union'
    ? 'required key is missing'
    : issueMessage(issue);
}
