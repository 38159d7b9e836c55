/**
 * Chart libraries for the dashboard, compared: size on disk, gzip size, and the time to draw 360
 * points × 4 series (an hour of samples every 10 s) in headless Chromium, median of 25 draws after
 * 5 warm-ups. uPlot comes from node_modules; Chart.js is not a dependency: point CHARTJS at its
 * chart.umd.min.js (`npm install --prefix /tmp/chartjs chart.js@4.6.1`) to include it. A
 * hand-written canvas polyline is the floor any library is measured against.
 *
 *   npx tsx test/bench/charts.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';

interface Library {
  name: string;
  file?: string;
  /** Browser code: draws `data` (x + 4 series) into `box`; resolves once drawn. */
  draw: string;
}

const require = createRequire(import.meta.url);
const libraries: Library[] = [
  {
    name: 'uPlot 1.6.32',
    file: require.resolve('uplot/dist/uPlot.iife.min.js'),
    draw: `(box, data) => { const u = new uPlot({ width: 800, height: 200, series: [{}, ...[1,2,3,4].map(() => ({ stroke: '#0b5cad' }))] }, data, box); return () => u.destroy(); }`,
  },
  ...(process.env.CHARTJS
    ? [
        {
          name: 'Chart.js 4.6.1',
          file: process.env.CHARTJS,
          draw: `(box, data) => { const c = document.createElement('canvas'); c.width = 800; c.height = 200; box.append(c); const ch = new Chart(c, { type: 'line', data: { labels: data[0], datasets: data.slice(1).map((d) => ({ data: d, pointRadius: 0, borderWidth: 1 })) }, options: { animation: false, responsive: false } }); return () => { ch.destroy(); c.remove(); }; }`,
        },
      ]
    : []),
  {
    name: 'hand-written canvas (no axes)',
    draw: `(box, data) => { const c = document.createElement('canvas'); c.width = 800; c.height = 200; box.append(c); const g = c.getContext('2d'); for (let s = 1; s < data.length; s++) { const ys = data[s]; const max = Math.max(...ys); g.beginPath(); ys.forEach((y, i) => g[i ? 'lineTo' : 'moveTo'](i * 800 / ys.length, 200 - y / max * 200)); g.stroke(); } return () => c.remove(); }`,
  },
];

/**
 * Runs in the page (a string: the project's types have no DOM). A macrotask after each draw, since
 * uPlot commits in a microtask, and a pixel read, so that canvas work is not left for the next frame:
 * every library is timed the same way.
 */
const MEASURE = `async (make) => {
  const now = Math.floor(Date.now() / 1000);
  const xs = Array.from({ length: 360 }, (_, i) => now - (360 - i) * 10);
  const data = [xs, ...[1, 2, 3, 4].map((s) => xs.map((_, i) => Math.abs(Math.sin(i / (10 * s))) * 100 * s))];
  const box = document.getElementById('box');
  const tick = () => new Promise((r) => { const ch = new MessageChannel(); ch.port1.onmessage = () => r(); ch.port2.postMessage(0); });
  const result = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    const destroy = make(box, data);
    await tick();
    box.querySelector('canvas').getContext('2d').getImageData(0, 0, 1, 1);
    const took = performance.now() - start;
    destroy();
    if (i >= 5) result.push(took);
  }
  return result;
}`;

if (chromiumMissing()) process.exitCode = 1;
else await main();

async function main() {
  const browser = await launchChromium({ width: 1000, height: 600 });
  const rows: string[] = [];
  try {
    for (const lib of libraries) {
      const page = await browser.context.newPage();
      await page.setContent('<!doctype html><div id="box"></div>');
      const code = lib.file ? readFileSync(lib.file) : undefined;
      if (code) await page.addScriptTag({ content: code.toString('utf8') });
      const times: number[] = await page.evaluate(`(${MEASURE})(${lib.draw})`);
      await page.close();
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      const size = code ? `${(code.length / 1024).toFixed(1)} KiB` : '–';
      const gzip = code ? `${(gzipSync(code, { level: 9 }).length / 1024).toFixed(1)} KiB` : '–';
      rows.push(
        `| ${lib.name} | ${size} | ${gzip} | ${median.toFixed(1)} ms | ${times[times.length - 1]!.toFixed(1)} ms |`,
      );
    }
  } finally {
    await browser.close();
  }
  console.log('| library | minified | gzip -9 | draw, median | draw, worst |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}
