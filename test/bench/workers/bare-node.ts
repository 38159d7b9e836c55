/**
 * A bare node:http handler, reading the body and answering 202 with the same small JSON as
 * bare-hono.ts: what Hono and its Node adapter cost per request is the difference between the two.
 *
 *   node --import tsx workers/bare-node.ts     (logs {"msg":"listening on ...","port":N})
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const answer = JSON.stringify({ id: '019a0000-0000-7000-8000-000000000000' });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: `listening on 127.0.0.1:${port}`, port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
