/**
 * `${VAR}` and `${VAR:-default}` in config values, read from the environment. Both readers of a
 * config file use it: the full load (config/load.ts) and the CLI's admin commands, which read only
 * the `admin` section. A variable set to the empty string counts as unset, as with the shell's `:-`.
 */

/** Where environment variables come from (injected so tests need not touch process.env). */
export type Env = Record<string, string | undefined>;

/** The text with its variables replaced, and the variables that had neither a value nor a default. */
export interface Interpolated {
  /** An unset variable without default stays as written (`${NAME}`), so a message can quote it. */
  text: string;
  /** Names of the unset variables without default, in order of appearance; empty when all resolved. */
  unset: string[];
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces every `${VAR}` and `${VAR:-default}` in `text`. */
export function interpolateEnv(text: string, env: Env): Interpolated {
  const unset: string[] = [];
  const replaced = text.replace(REFERENCE, (whole, name: string, fallback?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    unset.push(name);
    return whole;
  });
  return { text: replaced, unset };
}
