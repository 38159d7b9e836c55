/** `verify: { type: slack }`: the Slack-specific cases (the shared ones are in providers.test.ts). */
import { afterEach, describe, it } from 'vitest';
import { nowSeconds, slackHeaders } from '../../helpers/senders.js';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070';

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('slack signatures', () => {
  it('rejects a stale timestamp, and a replayed signature with a fresh timestamp', async () => {
    source = verifiedSource({ verify: { type: 'slack', secret: SECRET } });
    const old = slackHeaders(SECRET, body, nowSeconds(-301 - 5));
    await source.expectRejected(await source.post(body, old), /old; the tolerance is 300 s/);
    await source.expectRejected(
      await source.post(body, { ...old, 'X-Slack-Request-Timestamp': String(nowSeconds()) }),
      /does not match/,
    );
  });

  it('rejects missing headers and a timestamp that is not Unix seconds', async () => {
    source = verifiedSource({ verify: { type: 'slack', secret: SECRET } });
    const headers = slackHeaders(SECRET, body);
    await source.expectRejected(
      await source.post(body, { 'X-Slack-Signature': headers['X-Slack-Signature']! }),
      /missing X-Slack-Request-Timestamp/,
    );
    await source.expectRejected(
      await source.post(body, { 'X-Slack-Request-Timestamp': headers['X-Slack-Request-Timestamp']! }),
      /missing X-Slack-Signature/,
    );
    await source.expectRejected(
      await source.post(body, { ...headers, 'X-Slack-Request-Timestamp': '1e9' }),
      /not a Unix timestamp/,
    );
  });
});
