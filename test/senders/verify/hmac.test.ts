/**
 * `verify: { type: hmac }`: any HMAC of the body in one header; here its settings (header, algorithm,
 * encoding, prefix). The shared cases are in providers.test.ts.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, it } from 'vitest';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'generic-secret';
const body = '{"event":"ping"}';
const mac = (algorithm: string, encoding: 'hex' | 'base64', secret = SECRET, payload = body) =>
  createHmac(algorithm, secret).update(payload).digest(encoding);

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('generic hmac signatures', () => {
  it('defaults to sha256, hex, no prefix (Dropbox X-Dropbox-Signature)', async () => {
    source = verifiedSource({ verify: { type: 'hmac', header: 'X-Dropbox-Signature', secret: SECRET } });
    await source.expectAccepted(await source.post(body, { 'X-Dropbox-Signature': mac('sha256', 'hex') }));
    await source.expectAccepted(await source.post(body, { 'x-dropbox-signature': mac('sha256', 'hex').toUpperCase() }));
    await source.expectRejected(
      await source.post(body, { 'X-Dropbox-Signature': mac('sha256', 'hex', 'wrong') }),
      /X-Dropbox-Signature does not match/,
    );
  });

  it('takes sha1 with base64 and a prefix', async () => {
    source = verifiedSource({
      verify: { type: 'hmac', header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', prefix: 'sha1=', secret: SECRET },
    });
    await source.expectAccepted(await source.post(body, { 'X-Sig': `sha1=${mac('sha1', 'base64')}` }));
    await source.expectRejected(
      await source.post(body, { 'X-Sig': mac('sha1', 'base64') }),
      /does not start with "sha1="/,
    );
    await source.expectRejected(
      await source.post(body, { 'X-Sig': `sha1=${mac('sha256', 'base64')}` }),
      /does not match/,
    );
  });

  it('takes sha512 hex', async () => {
    source = verifiedSource({ verify: { type: 'hmac', header: 'X-Sig', algorithm: 'sha512', secret: [SECRET] } });
    await source.expectAccepted(await source.post(body, { 'X-Sig': mac('sha512', 'hex') }));
    await source.expectRejected(await source.post(`${body}\n`, { 'X-Sig': mac('sha512', 'hex') }), /does not match/);
  });
});
