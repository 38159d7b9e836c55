/**
 * What Sluice knows about one sender (`verify: { type: … }`), as a `SenderProvider`: its config,
 * how to verify its requests, and what else follows from it (re-signing at delivery, a default
 * dedupe key, a signed handshake, a 401 challenge). Each provider lives in its own file
 * (github.ts, stripe.ts, …) and is listed in registry.ts. A leaf module: types and small helpers.
 */
import type { z } from 'zod';
import type { Claim, HeaderPair } from '../journal/port.js';

/** What a verifier looks at. `headers` is case-insensitive; `body` is exactly the bytes received. */
export interface VerifyRequest {
  headers: Pick<Headers, 'get'>;
  body: Uint8Array;
  /** Epoch milliseconds. */
  now: number;
}

/** A verdict; `reason` says what was wrong without naming any secret (reasons are logged and sent back). */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Checks one request. Pure: same request, same time → same verdict. */
export type Verifier = (request: VerifyRequest) => VerifyResult;

/**
 * Header replacements for one delivery attempt, made at `now` (epoch ms): each pair replaces every
 * header of that name (any case), in the place of the first one, or is appended when the event had none.
 */
export type Signer = (claim: Claim, now: number) => HeaderPair[];

/**
 * Fresh signature headers for a stored request that verified as received, at `timestamp` (Unix
 * seconds as text). `headers` are the stored ones (case-insensitive).
 */
export type Resign = (request: Pick<VerifyRequest, 'headers' | 'body'>, timestamp: string) => HeaderPair[];

/** How ingest answers a handshake: a success with a body, or a refusal. */
export type HandshakeAnswer =
  | { status: 200; contentType: 'text/plain; charset=utf-8' | 'application/json'; body: string }
  | { status: 400 | 403; code: 'handshake_invalid'; message: string };

/** A handshake that arrives in a request body, answered only once the request verified. */
export type SignedHandshake = (request: VerifyRequest) => HandshakeAnswer | undefined;

/** The `verify:` variant of a provider: a strict object whose `type` is the provider's name. */
export type VerifySchema = z.core.$ZodTypeDiscriminable;

export interface SenderProvider<Schema extends VerifySchema = VerifySchema> {
  /** The `verify.type` that selects it. */
  readonly type: string;
  /** Its `verify:` variant, with `type: z.literal(type)`; the config's discriminated union is made of these. */
  readonly schema: Schema;
  /** Builds the verifier for one source's config (secrets are prepared once, here). */
  createVerifier(config: z.output<Schema>): Verifier;
  /**
   * Only for signatures over a timestamp, which go stale while an event waits in the journal:
   * fresh headers in the provider's own format (`resign: true`).
   */
  createResign?(config: z.output<Schema>): Resign;
  /** The dedupe key of a sender that puts an id on every event (`header:…` or `json:…`). */
  readonly dedupeKey?: string;
  /**
   * A handshake the sender sends signed, in a body. `config` is undefined when only `handshake:`
   * enabled it (a source verified by another type).
   */
  createHandshake?(config: z.output<Schema> | undefined): SignedHandshake | undefined;
  /** The `WWW-Authenticate` value of a 401, for credential types. */
  readonly challenge?: string;
  /**
   * Headers (lower case) whose verification consumes a credential rather than checks a signature:
   * whoever holds their value can post as the sender. Ingest drops them before the journal (unless
   * the source sets `forward.credentials`); signature headers are not listed, the consumer may check them.
   */
  readonly credentialHeaders?: readonly string[];
}

/** Declares a provider, keeping its schema's type (so the registry can build a typed union). */
export function defineProvider<Schema extends VerifySchema>(provider: SenderProvider<Schema>): SenderProvider<Schema> {
  return provider;
}

/** A 200 with `value` as JSON. */
export function jsonAnswer(value: unknown): HandshakeAnswer {
  return { status: 200, contentType: 'application/json', body: JSON.stringify(value) };
}

/** A 200 echoing `body` as text/plain (ingest adds `nosniff`). */
export function textAnswer(body: string): HandshakeAnswer {
  return { status: 200, contentType: 'text/plain; charset=utf-8', body };
}

export function refuseHandshake(status: 400 | 403, message: string): HandshakeAnswer {
  return { status, code: 'handshake_invalid', message };
}

/** Cheap pre-check, so ordinary events are not JSON-parsed for a handshake. */
export function bodyIncludes(body: Uint8Array, marker: string): boolean {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(marker);
}

/** The body as a JSON object, or undefined (not JSON, or not an object). */
export function parseJsonObject(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Case-insensitive lookup over stored header pairs; repeats joined with ", " as `Headers.get` does. */
export function headerLookup(pairs: readonly HeaderPair[]): Pick<Headers, 'get'> {
  return {
    get(name) {
      const wanted = name.toLowerCase();
      const values = pairs.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
      return values.length === 0 ? null : values.join(', ');
    },
  };
}
