import { sign } from '@octokit/webhooks-methods';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../helpers/ingest.js';
import { svixHeaders } from '../helpers/senders.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function send(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fixture!.app.request(path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, id: ((await res.json()) as { id?: string }).id };
}

describe('deduplication on ingest', () => {
  it('answers a duplicate like the original, with the same id, and stores it once', async () => {
    fixture = ingestFixture({ sources: { shop: { path: '/in/shop', to: 'crm', dedupe: { key: 'json:/id' } } } });
    const first = await send('/in/shop', '{"id":"evt_1","n":1}');
    const again = await send('/in/shop', '{"id":"evt_1","n":1}');
    const other = await send('/in/shop', '{"id":"evt_2"}');
    expect(first.status).toBe(202);
    expect(again).toEqual(first);
    expect(other.id).not.toBe(first.id);
    expect(await fixture.stored()).toBe(2);
    expect(fixture.accepted).toEqual([first.id, other.id]);
  });

  it('stores one event for many identical requests arriving at once', async () => {
    fixture = ingestFixture({
      sources: { shop: { path: '/in/shop', to: 'crm', dedupe: { key: 'header:x-delivery' } } },
    });
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => send('/in/shop', '{}', { 'x-delivery': 'd-1' })),
    );
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(await fixture.stored()).toBe(1);
  });

  it('stores the same key again once the window has passed', async () => {
    let now = Date.now();
    fixture = ingestFixture({
      clock: () => now,
      sources: { shop: { path: '/in/shop', to: 'crm', dedupe: { key: 'json:/id', window: '1h' } } },
    });
    const first = await send('/in/shop', '{"id":"a"}');
    now += 59 * 60_000;
    expect((await send('/in/shop', '{"id":"a"}')).id).toBe(first.id);
    now += 2 * 60_000;
    const later = await send('/in/shop', '{"id":"a"}');
    expect(later.id).not.toBe(first.id);
    expect(await fixture.stored()).toBe(2);
  });

  it('keys are per source, and requests without a key are never deduplicated', async () => {
    fixture = ingestFixture({
      sources: {
        a: { path: '/in/a', to: 'crm', dedupe: { key: 'json:/id' } },
        b: { path: '/in/b', to: 'crm', dedupe: { key: 'json:/id' } },
      },
    });
    const a = await send('/in/a', '{"id":"same"}');
    const b = await send('/in/b', '{"id":"same"}');
    expect(a.id).not.toBe(b.id);
    await send('/in/a', 'not json');
    await send('/in/a', 'not json');
    expect(await fixture.stored()).toBe(4);
  });

  it('deduplicates GitHub deliveries by X-GitHub-Delivery by default, and not with dedupe: false', async () => {
    const secret = 'gh-secret';
    fixture = ingestFixture({
      sources: {
        gh: { path: '/in/gh', to: 'crm', verify: { type: 'github', secret } },
        raw: { path: '/in/raw', to: 'crm', verify: { type: 'github', secret }, dedupe: false },
      },
    });
    const body = '{"action":"opened"}';
    const headers = {
      'x-hub-signature-256': await sign(secret, body),
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    };
    const first = await send('/in/gh', body, headers);
    expect(first.status).toBe(202);
    expect((await send('/in/gh', body, headers)).id).toBe(first.id);
    expect((await send('/in/raw', body, headers)).id).not.toBe((await send('/in/raw', body, headers)).id);
    expect(await fixture.stored()).toBe(3);
  });

  it('takes the Standard Webhooks id from the header set that verified, not from an unsigned webhook-id', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    fixture = ingestFixture({
      sources: { sw: { path: '/in/sw', to: 'crm', verify: { type: 'standard-webhooks', secret } } },
    });
    const body = '{"type":"invoice.paid"}';
    const first = await send('/in/sw', body, svixHeaders(secret, body, undefined, 'msg_svix_1'));
    // The same signed svix-* set again, with a forged, unsigned webhook-id that would make it look new.
    const forged = await send('/in/sw', body, {
      ...svixHeaders(secret, body, undefined, 'msg_svix_1'),
      'webhook-id': 'msg_forged',
    });
    expect(first.status).toBe(202);
    expect(forged).toEqual(first);
    // And an unsigned webhook-id cannot make a new svix event look like an old one.
    const next = await send('/in/sw', body, {
      ...svixHeaders(secret, body, undefined, 'msg_svix_2'),
      'webhook-id': 'msg_svix_1',
    });
    expect(next.id).not.toBe(first.id);
    expect(await fixture.stored()).toBe(2);
  });
});
