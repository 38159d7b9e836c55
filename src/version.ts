import { readFileSync } from 'node:fs';

let read: { name: string; version: string } | undefined;

/** Sluice's name and version, from its package.json (read once, on first use). */
export function packageVersion(): { name: string; version: string } {
  read ??= JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
  };
  return read;
}
