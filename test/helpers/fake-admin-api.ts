/**
 * A stand-in admin API for operator-command tests: answers every request with `answer(path)` (200 and
 * no destinations by default) and records the Authorization header each request carried.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAdminApi {
  url: string;
  /** The Authorization header of each request, in order. */
  seen: (string | undefined)[];
  close(): void;
}

export async function startFakeAdminApi(
  answer: (path: string) => { status: number; body: unknown } = () => ({ status: 200, body: { destinations: [] } }),
): Promise<FakeAdminApi> {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const { status, body } = answer(req.url ?? '/');
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}
