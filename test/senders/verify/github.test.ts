/** `verify: { type: github }`: the GitHub-specific cases (the shared ones are in providers.test.ts). */
import { sign } from '@octokit/webhooks-methods';
import { afterEach, describe, it } from 'vitest';
import { verifiedSource } from '../../helpers/verify.js';

const SECRET = "It's a Secret to Everybody";
const body = JSON.stringify({ action: 'opened', number: 1, pull_request: { title: 'Grüße 🦆' } });

let source: ReturnType<typeof verifiedSource> | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

describe('github signatures', () => {
  it('rejects the old SHA-1 header alone', async () => {
    source = verifiedSource({ verify: { type: 'github', secret: SECRET } });
    await source.expectRejected(
      await source.post(body, { 'X-Hub-Signature': 'sha1=0000' }),
      /missing X-Hub-Signature-256/,
    );
  });

  it('rejects a signature that is truncated or not sha256=', async () => {
    source = verifiedSource({ verify: { type: 'github', secret: SECRET } });
    const good = await sign(SECRET, body);
    await source.expectRejected(
      await source.post(body, { 'X-Hub-Signature-256': good.slice(0, 20) }),
      /does not match/,
    );
    await source.expectRejected(
      await source.post(body, { 'X-Hub-Signature-256': good.replace('sha256=', 'sha1=') }),
      /does not start with "sha256="/,
    );
  });
});
