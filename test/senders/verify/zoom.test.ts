/** `verify: { type: zoom }`: v0 signature over `v0:ts:body`, computed as senders.md describes. */
import { afterEach, describe, it } from 'vitest';
import { nowSeconds, zoomHeaders } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'zoom_secret_token_abc';
const body = JSON.stringify({
  event: 'meeting.started',
  payload: { object: { id: '1234567890', topic: 'Standup' } },
  event_ts: 1626230691572,
});

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('zoom signatures', () => {
  it('accepts a correctly signed request', async () => {
    source = verifiedSource({ verify: { type: 'zoom', secret: SECRET } });
    await source.expectAccepted(await source.post(body, zoomHeaders(SECRET, body)));
  });

  it('rejects a changed body, a wrong secret, a stale timestamp and missing headers', async () => {
    source = verifiedSource({ verify: { type: 'zoom', secret: SECRET } });
    await source.expectRejected(
      await source.post(body.replace('Standup', 'Retro'), zoomHeaders(SECRET, body)),
      /x-zm-signature does not match/,
    );
    await source.expectRejected(await source.post(body, zoomHeaders('nope', body)), /x-zm-signature does not match/);
    await source.expectRejected(
      await source.post(body, zoomHeaders(SECRET, body, nowSeconds(-400))),
      /old; the tolerance is 300 s/,
    );
    await source.expectRejected(await source.post(body), /missing x-zm-signature/);
    await source.expectRejected(
      await source.post(body, { 'x-zm-signature': zoomHeaders(SECRET, body)['x-zm-signature']! }),
      /missing x-zm-request-timestamp/,
    );
  });

  it('accepts any secret of a rotation list', async () => {
    source = verifiedSource({ verify: { type: 'zoom', secret: ['next', SECRET] } });
    await source.expectAccepted(await source.post(body, zoomHeaders(SECRET, body)));
  });
});
