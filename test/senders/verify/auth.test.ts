/** `verify: { type: basic | bearer }`: credentials in Authorization, with a 401 challenge. */
import { afterEach, describe, expect, it } from 'vitest';
import { verifiedSource } from '../../helpers/verify.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('basic credentials', () => {
  it('accepts the username with any configured password, and challenges otherwise', async () => {
    source = verifiedSource({
      verify: { type: 'basic', username: 'hooks', password: ['n3w-pässword', 'old:with:colons'] },
    });
    await source.expectAccepted(await source.post('{}', { Authorization: basic('hooks', 'n3w-pässword') }));
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
    await source.expectRejected(await source.post('{}'), /missing Authorization/);
    await source.expectRejected(
      await source.post('{}', { Authorization: 'Bearer n3w-pässword' }),
      /not Basic credentials/,
    );
  });
});

describe('bearer tokens', () => {
  it('accepts any configured token, and challenges otherwise', async () => {
    source = verifiedSource({ verify: { type: 'bearer', token: ['tok-current', 'tok-previous'] } });
    await source.expectAccepted(await source.post('{}', { Authorization: 'Bearer tok-previous' }));
    await source.expectAccepted(await source.post('{}', { Authorization: 'Bearer tok-current' }));
    const wrong = await source.post('{}', { Authorization: 'Bearer tok-current-and-more' });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="sluice"');
    await source.expectRejected(wrong, /Bearer credentials do not match/);
    await source.expectRejected(await source.post('{}', { Authorization: 'Bearer tok' }), /do not match/);
    await source.expectRejected(await source.post('{}', { Authorization: 'tok-current' }), /not Bearer credentials/);
  });
});
