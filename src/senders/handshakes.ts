/**
 * Handshakes: requests a sender makes to check an endpoint before (or while) sending events, which
 * must be answered at once and are never stored or forwarded.
 *
 *   meta     GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…  → the challenge, if the token matches
 *   dropbox  GET ?challenge=…                                           → the challenge
 *   graph    GET or POST ?validationToken=…                             → the token, URL-decoded
 *   slack, zoom: signed, in the body (see slack.ts, zoom.ts: a provider's `createHandshake`)
 *
 * The GET ones, here, come before the body is read, verification and the `methods` check (a GET
 * handshake is answered on a POST-only source: that is what an operator who enabled it expects).
 * The signed ones are answered only after the request verifies. Echoed text is sent as text/plain
 * with `nosniff`, so a crafted challenge cannot become a page in a browser.
 */
import type { SourceConfig } from '../config/schema.js';
import {
  type HandshakeAnswer,
  refuseHandshake,
  type SignedHandshake,
  textAnswer,
  type VerifyRequest,
} from './provider.js';
import { providers } from './registry.js';
import { safeEqual } from './signature.js';

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
  const signed: SignedHandshake[] = [];
  for (const provider of providers) {
    if (!provider.createHandshake || !kinds.has(provider.type)) continue;
    const config = source.verify?.type === provider.type ? source.verify : undefined;
    const handshake = provider.createHandshake(config);
    if (handshake) signed.push(handshake);
  }
  const any = signed.length > 0 || ['meta', 'dropbox', 'graph'].some((k) => kinds.has(k));
  if (!any) return undefined;

  return {
    beforeBody(method, query) {
      if (kinds.has('meta') && method === 'GET' && query.get('hub.mode') === 'subscribe') {
        const token = query.get('hub.verify_token');
        // An empty configured token never matches (an unset ${VAR:-} must not open the endpoint).
        const matches = metaToken !== undefined && metaToken !== '' && token !== null && safeEqual(token, metaToken);
        if (!matches) return refuseHandshake(403, 'hub.verify_token does not match');
        const challenge = query.get('hub.challenge');
        return challenge === null ? refuseHandshake(400, 'hub.challenge is missing') : textAnswer(challenge);
      }
      if (kinds.has('dropbox') && method === 'GET') {
        const challenge = query.get('challenge');
        if (challenge !== null) return textAnswer(challenge);
      }
      if (kinds.has('graph') && (method === 'GET' || method === 'POST')) {
        // URLSearchParams decodes it as Graph encodes it (percent escapes, `+` for space).
        const token = query.get('validationToken');
        if (token !== null) return textAnswer(token);
      }
      return undefined;
    },

    afterVerify(request) {
      for (const handshake of signed) {
        const answer = handshake(request);
        if (answer) return answer;
      }
      return undefined;
    },
  };
}
