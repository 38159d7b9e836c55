/**
 * The page's static files, served from the package itself (nothing from a CDN): the hand-written
 * scripts and style sheet beside this module (`static/`, copied into dist/ by `npm run build`) and
 * uPlot from its npm package. Each URL carries a hash of the content, so a browser may keep a file
 * for a year and still never runs an old script after an upgrade.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  name: string;
  type: string;
  body: Buffer;
  hash: string;
}

const require = createRequire(import.meta.url);
const local = (file: string) => fileURLToPath(new URL(`./static/${file}`, import.meta.url));

const FILES: Record<string, { path: () => string; type: string }> = {
  'common.js': { path: () => local('common.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.js': { path: () => local('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'events.js': { path: () => local('events.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { path: () => local('dashboard.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** The assets, read from disk once (at the first request, not at import). */
export function createAssets() {
  let loaded: Map<string, Asset> | undefined;
  const all = () =>
    (loaded ??= new Map(
      Object.entries(FILES).map(([name, file]) => {
        const body = readFileSync(file.path());
        const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
        return [name, { name, type: file.type, body, hash }];
      }),
    ));
  return {
    get: (name: string) => all().get(name),
    /** The URL of an asset, with its content hash. */
    url: (name: string) => `/ui/assets/${name}?v=${all().get(name)?.hash ?? '0'}`,
  };
}
export type Assets = ReturnType<typeof createAssets>;
