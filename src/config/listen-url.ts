/**
 * The URL a client on this machine uses to reach a listener bound to a given host. The gateway
 * reports its listeners' URLs with it and the CLI finds the admin API with it, so both agree.
 */

/**
 * `http://host:port`, with a wildcard host replaced by the loopback address of its family:
 * `0.0.0.0` → 127.0.0.1, `::` → ::1 (a listener on `::` may be IPv6-only, so ::1 is the address
 * that always reaches it). IPv6 literals go in brackets.
 */
export function listenUrl(host: string, port: number | string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
