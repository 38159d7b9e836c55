/**
 * A backoff on failed sign-ins, per remote address: after `maxFailures` wrong tokens within a
 * minute, that address is refused (429, Retry-After) for a delay that doubles with each further
 * round, up to a cap. The token is 32 random bytes, so this does not guard its secrecy; it keeps a
 * script from spending the admin listener on guesses, and makes a wrong token in a loop visible.
 */

export interface SignInLimitOptions {
  /** Failures within `windowMs` before the address waits; default 5. */
  maxFailures?: number;
  /** Default one minute. */
  windowMs?: number;
  /** The first wait; doubled at each further round. Default 10 s. */
  firstDelayMs?: number;
  /** The longest wait; default 15 minutes. */
  maxDelayMs?: number;
  /** Addresses tracked at most: the oldest is forgotten past it, so that memory stays bounded. */
  maxAddresses?: number;
  clock?: () => number;
}

export interface SignInLimit {
  /** Seconds `address` must wait before it may try again; 0 when it may now. */
  retryAfter(address: string): number;
  failed(address: string): void;
  succeeded(address: string): void;
}

interface Track {
  /** Times of the failures in the current window. */
  failures: number[];
  /** Rounds of `maxFailures` so far: the delay doubles with each. */
  rounds: number;
  blockedUntil: number;
  lastFailureAt: number;
}

export function createSignInLimit(options: SignInLimitOptions = {}): SignInLimit {
  const maxFailures = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const firstDelayMs = options.firstDelayMs ?? 10_000;
  const maxDelayMs = options.maxDelayMs ?? 15 * 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const clock = options.clock ?? Date.now;
  const tracks = new Map<string, Track>();
  return {
    retryAfter(address) {
      const track = tracks.get(address);
      const now = clock();
      return track && track.blockedUntil > now ? Math.ceil((track.blockedUntil - now) / 1000) : 0;
    },
    failed(address) {
      const now = clock();
      let track = tracks.get(address);
      // Quiet for as long as the longest wait: a fresh start.
      if (track && now - track.lastFailureAt > maxDelayMs) track = undefined;
      if (!track) {
        track = { failures: [], rounds: 0, blockedUntil: 0, lastFailureAt: now };
        if (tracks.size >= maxAddresses) tracks.delete(tracks.keys().next().value!);
      }
      // Re-inserted: the Map's order is then the order of last failure, oldest first.
      tracks.delete(address);
      tracks.set(address, track);
      track.lastFailureAt = now;
      track.failures = track.failures.filter((at) => now - at < windowMs);
      track.failures.push(now);
      if (track.failures.length >= maxFailures) {
        track.failures = [];
        track.blockedUntil = now + Math.min(maxDelayMs, firstDelayMs * 2 ** track.rounds);
        track.rounds += 1;
      }
    },
    succeeded(address) {
      tracks.delete(address);
    },
  };
}
