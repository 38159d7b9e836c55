/**
 * What a request that fails verification gets: 401 with a JSON error, nothing stored or forwarded,
 * and a log line giving the reason but never the secret. Checked through app.request() and through
 * a real listener (where headers are read from Node's request rather than a web Request).
 */
import { sign } from '@octokit/webhooks-methods';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture, listen } from '../../helpers/ingest.js';
import { capturedLogger } from '../../helpers/log.js';

const SECRET = 'gh-s3cret-value-that-must-not-leak';
const body = '{"zen":"Keep it logically awesome."}';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function setup() {
  const log = capturedLogger();
  const fixture = ingestFixture({
    logger: log.logger,
    sources: { gh: { path: '/in/gh', to: ['crm', 'erp'], verify: { type: 'github', secret: SECRET } } },
  });
  cleanup.push(() => fixture.close());
  return { fixture, log };
}

describe('a request that fails verification', () => {
  it('gets 401 signature_invalid as JSON, and is neither stored nor handed to the scheduler', async () => {
    const { fixture } = setup();
    const res = await fixture.app.request('/in/gh', {
      method: 'POST',
      body,
      headers: { 'X-Hub-Signature-256': await sign('wrong', body) },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      error: {
        code: 'signature_invalid',
        message: 'verification failed: X-Hub-Signature-256 does not match the body (changed body or wrong secret)',
      },
    });
    expect(fixture.accepted).toEqual([]);
    for (const destination of ['crm', 'erp']) {
      expect(await fixture.journal.countDeliveries(destination)).toEqual({
        pending: 0,
        in_flight: 0,
        delivered: 0,
        dead: 0,
      });
    }
  });

  it('logs the source and the reason at warn, without the secret or the expected signature', async () => {
    const { fixture, log } = setup();
    await fixture.app.request('/in/gh', {
      method: 'POST',
      body,
      headers: { 'X-Hub-Signature-256': await sign('wrong', body) },
    });
    const entry = log.entries().find((e) => e.msg === 'request failed verification: answered 401, not stored');
    expect(entry).toMatchObject({ level: 40, source: 'gh', reason: expect.stringContaining('does not match') });
    const everything = log.lines.join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain((await sign(SECRET, body)).slice('sha256='.length));
  });

  it('is told apart from a good one on a real listener too', async () => {
    const { fixture } = setup();
    const server = await listen(fixture);
    cleanup.push(() => server.close());
    const send = async (headers: Record<string, string>) => {
      const res = await request(`${server.url}/in/gh`, { method: 'POST', body, headers });
      return { status: res.statusCode, json: (await res.body.json()) as Record<string, any> };
    };
    const good = await send({ 'X-Hub-Signature-256': await sign(SECRET, body), 'Content-Type': 'application/json' });
    expect(good.status).toBe(202);
    expect((await fixture.journal.getEvent(good.json.id))!.headers).toContainEqual([
      'X-Hub-Signature-256',
      await sign(SECRET, body),
    ]);
    const bad = await send({ 'X-Hub-Signature-256': await sign(SECRET, `${body}x`) });
    expect(bad).toEqual({ status: 401, json: { error: expect.objectContaining({ code: 'signature_invalid' }) } });
    expect(fixture.accepted).toEqual([good.json.id]);
  });

  it('does not hide the other answers: an unknown path is 404 and a wrong method 405 before verification', async () => {
    const { fixture } = setup();
    expect((await fixture.app.request('/in/other', { method: 'POST', body })).status).toBe(404);
    expect((await fixture.app.request('/in/gh', { method: 'PUT', body })).status).toBe(405);
  });
});
