/** Slack Events API url_verification: a signed POST answered with its challenge, never stored. */
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../../helpers/ingest.js';
import { slackHeaders } from '../../helpers/senders.js';

const SECRET = 'slack-signing-secret';
const verification = JSON.stringify({
  token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
  challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
  type: 'url_verification',
});

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const post = (body: string, headers: Record<string, string>) =>
  fixture!.app.request('/in/slack', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('slack url_verification', () => {
  it('answers a signed one with 200 {"challenge"}, enabled by verify.type slack', async () => {
    fixture = ingestFixture({
      sources: { slack: { path: '/in/slack', to: 'crm', verify: { type: 'slack', secret: SECRET } } },
    });
    const res = await post(verification, slackHeaders(SECRET, verification));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}');
    expect(fixture.accepted).toEqual([]);
    expect(await fixture.stored()).toBe(0);
  });

  it('answers 401 to an unsigned or badly signed one', async () => {
    fixture = ingestFixture({
      sources: { slack: { path: '/in/slack', to: 'crm', verify: { type: 'slack', secret: SECRET } } },
    });
    expect((await post(verification, {})).status).toBe(401);
    expect((await post(verification, slackHeaders('wrong', verification))).status).toBe(401);
    expect(await fixture.stored()).toBe(0);
  });

  it('stores ordinary events, even ones that mention url_verification', async () => {
    fixture = ingestFixture({
      sources: { slack: { path: '/in/slack', to: 'crm', verify: { type: 'slack', secret: SECRET } } },
    });
    const event = JSON.stringify({
      type: 'event_callback',
      event: { type: 'message', text: 'what is url_verification?' },
    });
    expect((await post(event, slackHeaders(SECRET, event))).status).toBe(202);
    expect(fixture.accepted).toHaveLength(1);
  });

  it('is answered unsigned with an explicit handshake: slack and no verify', async () => {
    fixture = ingestFixture({ sources: { slack: { path: '/in/slack', to: 'crm', handshake: 'slack' } } });
    const res = await post(verification, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });
});
