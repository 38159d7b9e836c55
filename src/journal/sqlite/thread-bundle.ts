/**
 * Running from TypeScript sources (vitest, tsx), a journal thread cannot import its .ts module
 * as the built package imports its .js. Registering tsx's loader inside each thread works, but
 * costs about a second per thread (Node 20 runs loader hooks on a thread of their own), and the
 * tests start two threads per journal they open. So the thread's module is bundled once per
 * process with esbuild (which tsx itself uses) into node_modules/.cache, where its package
 * imports still resolve, and the thread starts from that plain .js in a fifth of the time
 * (measured under vitest: about 1.3 s a thread with the loader, 0.25 s from the bundle).
 *
 * Only the source path uses this; the built package never loads esbuild.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The parts of esbuild's API used here. */
interface Esbuild {
  buildSync(options: Record<string, unknown>): {
    outputFiles: { text: string }[];
    metafile: { inputs: Record<string, unknown> };
  };
}

const bundles = new Map<string, URL>();

/** The URL of a plain-.js bundle of the thread module at `source` (a .ts file URL), built on first use. */
export function bundledThread(source: URL): URL {
  const known = bundles.get(source.href);
  if (known) return known;
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as Esbuild;
  const result = esbuild.buildSync({
    entryPoints: [fileURLToPath(source)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    metafile: true,
    // The migrations folder is found from `import.meta.url`: each bundled module keeps the meaning
    // it has unbundled only if it lives beside the entry, which is checked below.
    define: { 'import.meta.url': JSON.stringify(source.href) },
  });
  const entryDir = dirname(fileURLToPath(source));
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(input);
    if (dirname(path) !== entryDir && readFileSync(path, 'utf8').includes('import.meta.url'))
      throw new Error(`${path} reads import.meta.url: bundled into ${source.href}, it would get the wrong one`);
  }
  const text = result.outputFiles[0]!.text;
  const cache = fileURLToPath(new URL('../../../node_modules/.cache/sluice-threads/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  // Named by content: processes bundling the same sources share one file, and a changed source gets a new one.
  const file = `${cache}${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`;
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
  const url = pathToFileURL(file);
  bundles.set(source.href, url);
  return url;
}
