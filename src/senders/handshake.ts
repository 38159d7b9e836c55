/**
 * Handshakes: requests a sender makes to check an endpoint before (or while) sending events, which
 * must be answered at once and are never stored or forwarded.
 *
 *   meta     GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…  → the challenge, if the token matches
 *   dropbox  GET ?challenge=…                                           → the challenge
 *   graph    GET or POST ?validationToken=…                             → the token, URL-decoded
 *   slack    POST {"type":"url_verification","challenge":…}             → {"challenge":…}
 *   zoom     POST {"event":"endpoint.url_validation","payload":{"plainToken":…}}
 *                                               → {"plainToken":…,"encryptedToken":hex HMAC-SHA256(secret, plainToken)}
 *
 * The first three come before the body is read, verification and the `methods` check (a GET
 * handshake is answered on a POST-only source: that is what an operator who enabled it expects).
 * Slack's and Zoom's come signed, so they are answered only after the request verifies; for Zoom
 * this also keeps Sluice from being an HMAC oracle for the secret. Echoed text is sent as
 * text/plain with `nosniff`, so a crafted challenge cannot become a page in a browser.
 */
import type { SourceConfig } from '../config/schema.js';
import { safeEqual, zoomEncryptedToken } from './signature.js';
import type { VerifyRequest } from './verify.js';
import { createTimestampedVerifier } from './verify-timestamped.js';

/** How ingest answers a handshake: a success with a body, or a refusal. */
export type HandshakeAnswer =
  | { status: 200; contentType: 'text/plain; charset=utf-8' | 'application/json'; body: string }
  | { status: 400 | 403; code: 'handshake_invalid'; message: string };

/** The handshakes one source answers. */
export interface Handshakes {
  /** Handshakes recognised from the method and query alone (meta, dropbox, graph). */
  beforeBody(method: string, query: URLSearchParams): HandshakeAnswer | undefined;
  /** Handshakes in a (verified) body (slack, zoom). */
  afterVerify(request: VerifyRequest): HandshakeAnswer | undefined;
}

/** The handshakes a source answers: its explicit `handshake:` plus the one its `verify.type` implies. */
export function createHandshakes(source: Pick<SourceConfig, 'handshake' | 'verify'>): Handshakes | undefined {
  const explicit = source.handshake;
  const kinds = new Set<string>([explicit?.type, source.verify?.type].filter((k) => k !== undefined));
  const metaToken = explicit?.type === 'meta' ? explicit.verify_token : undefined;
  const zoom = source.verify?.type === 'zoom' ? source.verify : undefined;
  // Zoom validates with its current secret: answer with the configured one the request was signed with.
  const zoomSecrets = zoom
    ? zoom.secret.map((secret) => ({ secret, verify: createTimestampedVerifier({ ...zoom, secret: [secret] }) }))
    : [];
  const any = ['meta', 'dropbox', 'graph', 'slack', 'zoom'].some((k) => kinds.has(k));
  if (!any) return undefined;

  return {
    beforeBody(method, query) {
      if (kinds.has('meta') && method === 'GET' && query.get('hub.mode') === 'subscribe') {
        const token = query.get('hub.verify_token');
        // An empty configured token never matches (an unset ${VAR:-} must not open the endpoint).
        const matches = metaToken !== undefined && metaToken !== '' && token !== null && safeEqual(token, metaToken);
        if (!matches) return refuse(403, 'hub.verify_token does not match');
        const challenge = query.get('hub.challenge');
        return challenge === null ? refuse(400, 'hub.challenge is missing') : text(challenge);
      }
      if (kinds.has('dropbox') && method === 'GET') {
        const challenge = query.get('challenge');
        if (challenge !== null) return text(challenge);
      }
      if (kinds.has('graph') && (method === 'GET' || method === 'POST')) {
        // URLSearchParams decodes it as Graph encodes it (percent escapes, `+` for space).
        const token = query.get('validationToken');
        if (token !== null) return text(token);
      }
      return undefined;
    },

    afterVerify(request) {
      if (kinds.has('slack') && includes(request.body, 'url_verification')) {
        const message = parseObject(request.body);
        if (message?.type === 'url_verification' && typeof message.challenge === 'string') {
          return json({ challenge: message.challenge });
        }
      }
      if (zoom && includes(request.body, 'endpoint.url_validation')) {
        const message = parseObject(request.body);
        const payload = message?.payload as Record<string, unknown> | undefined;
        if (message?.event === 'endpoint.url_validation' && typeof payload?.plainToken === 'string') {
          const signer = zoomSecrets.find((s) => s.verify(request).ok) ?? zoomSecrets[0]!;
          return json({
            plainToken: payload.plainToken,
            encryptedToken: zoomEncryptedToken(signer.secret, payload.plainToken),
          });
        }
      }
      return undefined;
    },
  };
}

function text(body: string): HandshakeAnswer {
  return { status: 200, contentType: 'text/plain; charset=utf-8', body };
}

function json(value: unknown): HandshakeAnswer {
  return { status: 200, contentType: 'application/json', body: JSON.stringify(value) };
}

function refuse(status: 400 | 403, message: string): HandshakeAnswer {
  return { status, code: 'handshake_invalid', message };
}

/** Cheap pre-check, so ordinary events are not JSON-parsed here. */
function includes(body: Uint8Array, marker: string): boolean {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(marker);
}

function parseObject(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
