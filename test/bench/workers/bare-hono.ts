/**
 * The ingest ceiling: Hono on @hono/node-server, the same stack as Sluice's ingest, reading the
 * body and answering 202 without storing anything. Whatever Sluice does beyond this (the journal,
 * the group commit, the scheduler) is what the Sluice/bare ratio prices.
 *
 *   node --import tsx workers/bare-hono.ts     (logs {"msg":"listening on ...","port":N})
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
// Answered like Sluice's ingest (202 and a small JSON id), so that only the storing differs.
app.post('*', async (c) => {
  await c.req.arrayBuffer();
  return c.json({ id: '019a0000-0000-7000-8000-000000000000' }, 202);
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: `listening on 127.0.0.1:${info.port}`, port: info.port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
