/** `verify: { type: zoom }`: the Zoom-specific case (the shared ones are in providers.test.ts). */
import { afterEach, describe, it } from 'vitest';
import { zoomHeaders } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = 'zoom_secret_token_abc';
const body = JSON.stringify({ event: 'meeting.started', payload: { object: { id: '1234567890', topic: 'Standup' } } });

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('zoom signatures', () => {
  it('rejects a signature without its timestamp header', async () => {
    source = verifiedSource({ verify: { type: 'zoom', secret: SECRET } });
    await source.expectRejected(
      await source.post(body, { 'x-zm-signature': zoomHeaders(SECRET, body)['x-zm-signature']! }),
      /missing x-zm-request-timestamp/,
    );
  });
});
