/**
 * `verify: { type: basic | bearer }`: credentials in Authorization, with a 401 challenge. The cases
 * shared with the signature types are in providers.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { basicAuthorization as basic } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('basic credentials', () => {
  it('takes the scheme in any case, and challenges wrong credentials', async () => {
    source = verifiedSource({
      verify: { type: 'basic', username: 'hooks', password: ['n3w-pässword', 'old:with:colons'] },
    });
    await source.expectAccepted(
      await source.post('{}', { authorization: basic('hooks', 'old:with:colons').replace('Basic', 'basic') }),
    );
    const wrong = await source.post('{}', { Authorization: basic('hooks', 'guess') });
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="sluice", charset="UTF-8"');
    await source.expectRejected(wrong, /Basic credentials do not match/);
    await source.expectRejected(
      await source.post('{}', { Authorization: basic('admin', 'n3w-pässword') }),
      /do not match/,
    );
    await source.expectRejected(
      await source.post('{}', { Authorization: 'Bearer n3w-pässword' }),
      /not Basic credentials/,
    );
  });
});

describe('bearer tokens', () => {
  it('challenges a wrong token, and refuses other schemes', async () => {
    source = verifiedSource({ verify: { type: 'bearer', token: ['tok-current', 'tok-previous'] } });
    const wrong = await source.post('{}', { Authorization: 'Bearer tok-current-and-more' });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="sluice"');
    await source.expectRejected(wrong, /Bearer credentials do not match/);
    await source.expectRejected(await source.post('{}', { Authorization: 'tok-current' }), /not Bearer credentials/);
  });
});
