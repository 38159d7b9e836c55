/**
 * The public listener's request handler. A request on a source's exact path goes from Node's request
 * event to the source's handler and back to Node's response, with nothing in between: through Hono
 * and its Node adapter, each one also cost a web Request, a Response, a Headers object, a routing
 * pass and several promises, on the main thread, which is the ingest limit. Everything else (the
 * health routes, 404s, paths that are a source's only once percent-decoded) goes to the Hono app.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { HeaderPair } from '../journal/port.js';
import type { Logger } from '../log.js';
import type { IngestAnswer, IngestRequest, SourceHandler } from './source-handler.js';

type Fetch = Parameters<typeof getRequestListener>[0];

/**
 * `handlers`: by exact path. A path whose URL form differs (dot segments, doubled slashes) is left
 * to Hono, which matches on the normalised URL, so that each path is matched one way only.
 */
export function createIngestListener(
  handlers: ReadonlyMap<string, SourceHandler>,
  fetch: Fetch,
  logger: Logger,
): RequestListener {
  const direct = new Map([...handlers].filter(([path]) => new URL(path, 'http://localhost').pathname === path));
  const fallback = getRequestListener(fetch);
  return (req, res) => {
    const [path, query] = splitUrl(req.url ?? '/');
    const handle = direct.get(path);
    if (handle === undefined) {
      void fallback(req, res);
      return;
    }
    handle(nodeRequest(req, path, query)).then((answer) => send(res, answer, logger));
  };
}

/** A request URL (a path, or a whole URL) → what comes before the first `?`, and what follows it ('' when none). */
export function splitUrl(url: string): [path: string, query: string] {
  const q = url.indexOf('?');
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
}

/** Node's request as the rules read it, its headers read from Node's parsed ones (no web Headers built). */
export function nodeRequest(incoming: IncomingMessage, path: string, query: string): IngestRequest {
  return new NodeRequest(incoming, path, query);
}

/** A class rather than an object literal: no closures made per request. */
class NodeRequest implements IngestRequest {
  readonly method: string;
  readonly headers: NodeHeaders;
  readonly remoteAddr: string | undefined;
  constructor(
    private readonly incoming: IncomingMessage,
    readonly path: string,
    readonly query: string,
  ) {
    this.method = incoming.method ?? 'GET';
    this.headers = new NodeHeaders(incoming.headers);
    this.remoteAddr = incoming.socket?.remoteAddress;
  }
  headerPairs(): HeaderPair[] {
    return pairs(this.incoming.rawHeaders);
  }
  body(): IncomingMessage {
    return this.incoming;
  }
}

/** Case-insensitive lookup in Node's parsed headers; repeats joined with ", ", as `Headers.get` does. */
class NodeHeaders implements Pick<Headers, 'get'> {
  constructor(private readonly headers: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
}

function send(res: ServerResponse, answer: IngestAnswer, logger: Logger): void {
  try {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  } catch (error) {
    // A header value Node refuses: the connection is cut rather than left waiting (and no rejection goes unhandled).
    logger.error({ err: error, status: answer.status }, 'ingest answer could not be written');
    res.destroy();
  }
}

/** Node's flat rawHeaders list → [name, value] pairs, original case and order, repeats kept. */
function pairs(raw: string[]): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
