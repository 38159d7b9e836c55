/**
 * Per-source `allow_ips`: which client addresses may send, with `server.trust_proxy` deciding
 * whether X-Forwarded-For is believed. Pure apart from node's BlockList.
 */
import { BlockList, isIP } from 'node:net';
import { parseCidr, type TrustProxy } from '../config/schema.js';

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
 * The client's address. `peer` is the TCP peer; `forwardedFor` the X-Forwarded-For value (repeated
 * headers joined by commas), where each proxy appends the address it received from.
 *   trust false (or 0): the peer, X-Forwarded-For ignored
 *   trust N: N proxies of ours stand in front, so the client is N hops back from the peer
 *   trust true: every hop is trusted, the leftmost address is the client
 * Fewer addresses than hops means the header was not set by our proxies: the leftmost is used.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null,
  trust: TrustProxy,
): string | undefined {
  if (trust === false || trust === 0 || forwardedFor === null) return peer;
  const hops = [...forwardedFor.split(',').map((a) => a.trim()), ...(peer === undefined ? [] : [peer])];
  const index = trust === true ? 0 : Math.max(0, hops.length - 1 - trust);
  const address = hops[index];
  return address === undefined || address === '' ? undefined : address;
}
