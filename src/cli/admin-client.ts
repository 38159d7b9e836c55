/**
 * The operator commands' client of the admin API. A call names the route (admin/schemas.ts), so
 * its method, path and the type of its answer come from the same definition the server uses.
 * An error answer becomes an `ApiError`; an unreachable API, a plain `Error`.
 */
import { Agent, request } from 'undici';
import { type ApiAnswer, type JsonRoute, routes } from '../admin/schemas.js';
import { SluiceError } from '../errors.js';

/** The API answered an error: `code` is its stable error code (e.g. `unauthorized`). */
export class ApiError extends SluiceError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** Path parameters, query and JSON body of one call. */
export interface ApiRequest {
  params?: Record<string, string>;
  query?: URLSearchParams;
  body?: Record<string, unknown>;
}

/** Where the admin API is and how to authenticate. */
export interface AdminTarget {
  url: string;
  token: string | undefined;
}

export interface AdminClient {
  /** Calls one route; resolves its 200 answer, rejects with `ApiError` on an error answer. */
  call<K extends JsonRoute>(route: K, req?: ApiRequest): Promise<ApiAnswer<K>>;
  close(): Promise<void>;
}

export function createAdminClient(target: AdminTarget): AdminClient {
  // Long timeouts: a bulk replay or a listing over a large backlog may take a while to answer.
  const agent = new Agent({ connections: 4, headersTimeout: 600_000, bodyTimeout: 600_000 });
  return {
    async call(name, req = {}) {
      const route = routes[name];
      const path = route.path.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(req.params?.[key] ?? ''));
      const qs = req.query?.toString();
      const headers: Record<string, string> = { accept: 'application/json' };
      if (target.token) headers.authorization = `Bearer ${target.token}`;
      // The API takes a change only as JSON (what a cross-site form cannot send): `{}` when there is nothing to say.
      const body = route.method === 'get' ? undefined : JSON.stringify(req.body ?? {});
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(new URL(qs ? `${path}?${qs}` : path, target.url), {
          method: route.method.toUpperCase() as Uppercase<typeof route.method>,
          headers,
          dispatcher: agent,
          ...(body !== undefined && { body }),
        });
      } catch (error) {
        const reason = (error as Error).message || (error as { code?: string }).code;
        throw new Error(`cannot reach the admin API at ${target.url}: ${reason}`, { cause: error });
      }
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiError(
          res.statusCode,
          'bad_response',
          `the admin API answered ${res.statusCode} with something other than JSON`,
        );
      }
      if (res.statusCode >= 400) {
        const e = (parsed as { error?: { code?: string; message?: string } }).error;
        throw new ApiError(res.statusCode, e?.code ?? 'error', e?.message ?? `HTTP ${res.statusCode}`);
      }
      // Not validated here: the server's handlers are type-checked against these same schemas.
      return parsed as ApiAnswer<typeof name>;
    },
    close: () => agent.close(),
  };
}
