/**
 * Per-source `allow_ips`: which client addresses may send, with `server.trusted_proxies` (and
 * `server.trust_proxy`) deciding whose X-Forwarded-For is believed. Pure apart from node's BlockList.
 */
import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../config/fields.js';
import { DEFAULT_TRUSTED_PROXIES, type TrustProxy } from '../config/schema.js';

/** The allow list of one source; `allows` is false for an address it cannot read. */
export interface AllowList {
  allows(address: string | undefined): boolean;
}

/** Builds the list from validated `allow_ips` entries (addresses or CIDR blocks, IPv4 or IPv6). */
export function createAllowList(entries: readonly string[]): AllowList {
  const list = new BlockList();
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (!cidr) throw new Error(`not an IP address or CIDR block: ${entry}`); // the schema refuses these first
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return {
    allows(address) {
      const version = address === undefined ? 0 : isIP(address);
      // BlockList matches an IPv4-mapped IPv6 address (::ffff:10.0.0.1) against IPv4 rules too.
      return version !== 0 && list.check(address!, version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * Whom X-Forwarded-For is believed from: `isProxy` says whether an address is one of our proxies,
 * `maxHops` how many of them may stand in front (`server.trust_proxy: N`; otherwise no cap).
 */
export interface ProxyTrust {
  isProxy(address: string): boolean;
  maxHops: number;
}

/**
 * The trust of `server.trust_proxy` and `server.trusted_proxies`, or `undefined` when
 * X-Forwarded-For is ignored. Listing `trusted_proxies` turns it on; `trust_proxy: true | N` without
 * a list trusts only proxies on this machine (DEFAULT_TRUSTED_PROXIES).
 */
export function createProxyTrust(
  trustProxy: TrustProxy,
  trustedProxies?: readonly string[] | undefined,
): ProxyTrust | undefined {
  const on = trustProxy !== false && trustProxy !== 0;
  if (!on && trustedProxies === undefined) return undefined;
  const proxies = createAllowList(trustedProxies ?? DEFAULT_TRUSTED_PROXIES);
  return {
    isProxy: (address) => proxies.allows(address),
    maxHops: typeof trustProxy === 'number' && trustProxy > 0 ? trustProxy : Number.POSITIVE_INFINITY,
  };
}

/**
 * The client's address. `peer` is the TCP peer; `forwardedFor` the X-Forwarded-For value (repeated
 * headers joined by commas), where each proxy appends the address it received from. Walking from
 * the peer leftwards, each address that is a trusted proxy hands over to the one it appended, at
 * most `maxHops` times; the first address that is not a trusted proxy is the client. A peer that is
 * not a trusted proxy is the client itself, whatever it wrote in X-Forwarded-For; entries left of the
 * first untrusted one were written by the client and are never believed.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null,
  trust: ProxyTrust | undefined,
): string | undefined {
  // An unknown peer cannot be shown to be a proxy of ours.
  if (trust === undefined || forwardedFor === null || peer === undefined) return peer;
  const hops = [...forwardedFor.split(',').map((a) => a.trim()), peer];
  let index = hops.length - 1;
  for (let used = 0; index > 0 && used < trust.maxHops && trust.isProxy(hops[index]!); used++) index--;
  const address = hops[index];
  return address === undefined || address === '' ? undefined : address;
}
