/**
 * Config error messages in Sluice's own words. zod's defaults ("Too big: expected number to be
 * <=65535") describe the validator; an operator needs what to write instead ("must be at most
 * 65535"). An unknown key gets the closest key the schema knows at that place ("did you mean
 * `port`?"), since a typo is the usual reason. Messages the schema writes itself are kept.
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** zod's own wording, as opposed to a message written in schema.ts or fields.ts. */
const ZOD_DEFAULT = /^(Too big|Too small|Invalid input|Invalid option|Invalid string|Invalid)\b/;

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map of keys',
  array: 'a list',
  record: 'a map of keys',
  null: 'empty',
  undefined: 'missing',
};

/** The message of one schema issue, in the project's voice. */
export function issueMessage(issue: Issue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'too_big':
      return limit(issue.origin, 'most', issue.maximum, issue.inclusive ?? true);
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return limit(issue.origin, 'least', issue.minimum, issue.inclusive ?? true);
    case 'invalid_type': {
      const received = /received (\w+)/.exec(issue.message)?.[1];
      const got = received && received !== issue.expected ? `, not ${TYPE_NAMES[received] ?? received}` : '';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}${got}`;
    }
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map(String).join(', ')}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options)) return `must be one of ${options.map(String).join(', ')}`;
      const expected = issue.errors.flatMap((branch) =>
        branch.length === 1 && branch[0]!.code === 'invalid_type' ? [branch[0]!.expected] : [],
      );
      if (expected.length === issue.errors.length && expected.length > 0)
        return `must be ${[...new Set(expected)].map((t) => TYPE_NAMES[t] ?? t).join(' or ')}`;
      return 'is not one of the accepted forms (see the README)';
    }
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

function limit(origin: string, bound: 'most' | 'least', value: number | bigint, inclusive: boolean): string {
  const n = Number(value);
  if (origin === 'array' || origin === 'set') return `must have at ${bound} ${n} item${n === 1 ? '' : 's'}`;
  if (origin === 'string') return `must be at ${bound} ${n} character${n === 1 ? '' : 's'} long`;
  if (inclusive) return `must be at ${bound} ${n}`;
  return `must be ${bound === 'most' ? 'less' : 'more'} than ${n}`;
}

/**
 * Keys an object of `schema` accepts at `path` (record keys and array indices pass through), for
 * suggestions; empty when the path leads to no object.
 */
export function keysAt(schema: z.core.$ZodType, path: readonly (string | number)[]): string[] {
  const found = new Set<string>();
  const walk = (s: z.core.$ZodType, rest: readonly (string | number)[]): void => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'pipe':
        walk(def.in as z.core.$ZodType, rest);
        return;
      case 'optional':
      case 'default':
      case 'prefault':
      case 'nullable':
      case 'readonly':
      case 'catch':
        walk(def.innerType as z.core.$ZodType, rest);
        return;
      case 'union':
        for (const option of def.options as z.core.$ZodType[]) walk(option, rest);
        return;
      case 'record':
        if (rest.length > 0) walk(def.valueType as z.core.$ZodType, rest.slice(1));
        return;
      case 'array':
        if (rest.length > 0) walk(def.element as z.core.$ZodType, rest.slice(1));
        return;
      case 'object': {
        const shape = def.shape as Record<string, z.core.$ZodType>;
        if (rest.length === 0) for (const key of Object.keys(shape)) found.add(key);
        else if (shape[String(rest[0])]) walk(shape[String(rest[0])]!, rest.slice(1));
        return;
      }
      default:
        return;
    }
  };
  walk(schema, path);
  return [...found];
}

/** The candidate closest to `key` when it is close enough to be a typo (edit distance within a third). */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance))
      best = { key: candidate, distance };
  }
  return best?.key;
}

/** Damerau-Levenshtein (optimal string alignment): a swap of two neighbours (`prot`) counts as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** A `${VAR}` written unquoted, which YAML reads as the start of a flow map inside `{ }` or `[ ]`. */
const UNQUOTED_VARIABLE = /(^|[\s,{[:])\$\{/;

/** The hint for a YAML syntax error on a line holding an unquoted `${VAR}`; undefined otherwise. */
export function syntaxHint(line: string): string | undefined {
  const unquoted = line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'/g, '""');
  if (!UNQUOTED_VARIABLE.test(unquoted)) return undefined;
  const variable = /\$\{[^}]*\}/.exec(unquoted)?.[0] ?? '${VAR}';
  return `quote the variable: "${variable}" (unquoted, YAML reads \${ as the start of a map)`;
}
