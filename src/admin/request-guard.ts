/**
 * What a web page in the operator's browser must not do to the admin API: reach it under a name of
 * its own (DNS rebinding: its name, resolved to 127.0.0.1), call it from its own origin, or post a
 * form to it (a form's content type needs no CORS preflight; application/json does). The bearer
 * token stops them too; these checks stop them before the token is even looked at.
 */
import { hostname, networkInterfaces } from 'node:os';
import type { Context, MiddlewareHandler } from 'hono';

/** Names a loopback listener answers to. */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** Methods that change nothing: the only ones accepted without a JSON content type. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The host names a listener bound to `host` answers to: the loopback names, `host` itself, and
 * `extra` (the config's `admin.allowed_hosts`). A listener on every interface (0.0.0.0, ::) also
 * answers to this machine's addresses and name.
 */
export function listenerHostNames(host: string, extra: readonly string[] = []): string[] {
  const names = new Set([...LOOPBACK_NAMES, host, ...extra].map(normalizeHost));
  if (host === '0.0.0.0' || host === '::' || host === '[::]') {
    names.add(normalizeHost(hostname()));
    for (const list of Object.values(networkInterfaces())) {
      for (const address of list ?? []) names.add(normalizeHost(address.address));
    }
  }
  return [...names];
}

/** A host name as compared: lower case, no brackets around an IPv6 address, no trailing dot. */
function normalizeHost(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]`, `[v6]:port`). */
function hostOf(header: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (v6) return normalizeHost(v6[1]!);
  return normalizeHost(header.replace(/:\d+$/, ''));
}

/**
 * Refuses (403) a request for a host name not in `allowed`, or from another origin than the one it
 * is sent to. Paths in `exempt` (the health checks: read-only, and probed by addresses nobody
 * lists) pass.
 */
export function hostGuard(allowed: readonly string[], exempt: ReadonlySet<string>, refuse: Refuse): MiddlewareHandler {
  const names = new Set(allowed.map(normalizeHost));
  return async function hostGuard(c, next) {
    if (exempt.has(c.req.path)) return next();
    // Without a Host header (HTTP/1.0, or an in-process request), the URL's host is what was asked for.
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!names.has(hostOf(host))) {
      return refuse(c, 403, 'forbidden_host', `this admin API does not answer to the host "${host}"`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !sameOrigin(origin, host)) {
      return refuse(c, 403, 'forbidden_origin', `requests from ${origin} are not accepted`);
    }
    return next();
  };
}

/** Refuses (415) a state-changing request whose content type is not `application/json`. */
export function jsonOnly(refuse: Refuse): MiddlewareHandler {
  return async function jsonOnly(c, next) {
    if (!SAFE_METHODS.has(c.req.method)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        return refuse(c, 415, 'unsupported_media_type', `${c.req.method} needs Content-Type: application/json`);
      }
    }
    return next();
  };
}

/** How the guards answer a refused request (the app's JSON error). */
export type Refuse = (c: Context, status: 403 | 415, code: string, message: string) => Response;

/** True when `origin` (an Origin header) is the origin of the admin API at `host`. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false; // "null" (a sandboxed page, a file), or garbage
  }
}
