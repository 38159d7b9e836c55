import { Readable } from 'node:stream';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sink, type SinkOptions, startSink } from '../../src/cli/sink.js';
import { SluiceError } from '../../src/errors.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const sinks: Sink[] = [];
const agents: Agent[] = [];

afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await Promise.all(agents.splice(0).map((a) => a.destroy()));
});

async function sink(options: SinkOptions = {}): Promise<Sink> {
  const s = await startSink(options);
  sinks.push(s);
  return s;
}

/** A dedicated keep-alive pool per test, so no connection outlives its test. */
function agent(): Agent {
  const a = new Agent();
  agents.push(a);
  return a;
}

async function post(s: Sink, dispatcher: Agent, body = 'hello', headers: Record<string, string> = {}) {
  const res = await request(`${s.url}/hook`, { method: 'POST', body, headers, dispatcher });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

describe('sink', () => {
  it('listens on an ephemeral 127.0.0.1 port and answers 200 without Retry-After by default', async () => {
    const s = await sink({ port: 0 });
    expect(s.port).toBeGreaterThan(0);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    const res = await post(s, agent());
    expect(res.status).toBe(200);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.text).toBe('');
    // An empty body framed by length, not chunked: the leanest answer a benchmark can get.
    expect(res.headers['content-length']).toBe('0');
    expect(s.stats()).toEqual({ received: 1, answered: { 200: 1 }, inFlight: 0, maxInFlight: 1 });
  });

  it('answers the configured status, with Retry-After on non-2xx when retryAfter is set', async () => {
    const accepted = await sink({ status: 202, retryAfter: 3 });
    const a = await post(accepted, agent());
    expect(a.status).toBe(202);
    expect(a.headers['retry-after']).toBeUndefined();

    const failing = await sink({ status: 500, retryAfter: 3 });
    const f = await post(failing, agent());
    expect(f.status).toBe(500);
    expect(f.headers['retry-after']).toBe('3');

    const noContent = await sink({ status: 204 });
    expect((await post(noContent, agent())).status).toBe(204);
  });

  it('delays the answer by the configured latency', async () => {
    const s = await sink({ latencyMs: 300 });
    const started = performance.now();
    const res = await post(s, agent());
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(240);
  });

  it('answers 503 with Retry-After to every request when failRate is 1', async () => {
    const s = await sink({ failRate: 1, retryAfter: 7, status: 202 });
    const dispatcher = agent();
    const results = await Promise.all(Array.from({ length: 10 }, () => post(s, dispatcher)));
    for (const res of results) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
    }
    expect(s.stats().answered).toEqual({ 503: 10 });
  });

  it('fails exactly the requests for which the injected random is below failRate', async () => {
    const draws = [0.1, 0.9, 0.49, 0.5, 0.7];
    let i = 0;
    const s = await sink({ failRate: 0.5, random: () => draws[i++]! });
    const dispatcher = agent();
    const statuses: number[] = [];
    // Sequential on purpose: the draw order must match the request order.
    for (let n = 0; n < draws.length; n++) {
      const res = await post(s, dispatcher);
      statuses.push(res.status);
      // No retryAfter configured, so a failure carries no Retry-After.
      expect(res.headers['retry-after']).toBeUndefined();
    }
    expect(statuses).toEqual([503, 200, 503, 200, 200]);
    expect(i).toBe(draws.length);
    expect(s.stats().answered).toEqual({ 200: 3, 503: 2 });
  });

  it('never fails when failRate is 0, whatever random returns', async () => {
    const s = await sink({ failRate: 0, random: () => 0 });
    const dispatcher = agent();
    for (let n = 0; n < 3; n++) expect((await post(s, dispatcher)).status).toBe(200);
  });

  it('counts received, answered, inFlight and maxInFlight across concurrent slow requests', async () => {
    const s = await sink({ latencyMs: 400 });
    const dispatcher = agent();
    const pending = Array.from({ length: 3 }, () => post(s, dispatcher));

    await waitUntil(() => s.stats().inFlight === 3, 5_000, '3 requests in flight');
    expect(s.stats()).toEqual({ received: 3, answered: {}, inFlight: 3, maxInFlight: 3 });

    const results = await Promise.all(pending);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitUntil(() => s.stats().inFlight === 0, 5_000, 'no request in flight');
    expect(s.stats()).toEqual({ received: 3, answered: { 200: 3 }, inFlight: 0, maxInFlight: 3 });

    // A later lone request does not lower the high-water mark.
    await post(s, dispatcher);
    await waitUntil(() => s.stats().inFlight === 0, 5_000, 'no request in flight');
    expect(s.stats()).toEqual({ received: 4, answered: { 200: 4 }, inFlight: 0, maxInFlight: 3 });
  });

  it('stats() returns a snapshot, not a live view', async () => {
    const s = await sink();
    const before = s.stats();
    await post(s, agent());
    expect(before).toEqual({ received: 0, answered: {}, inFlight: 0, maxInFlight: 0 });
  });

  it('reads the whole body before answering, and logs one line per request', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const s = await sink({ logger });

    // The second chunk is sent 300 ms after the first: an answer before it would be premature.
    const gapMs = 300;
    const body = Readable.from(
      (async function* () {
        yield Buffer.alloc(1000, 'a');
        await sleep(gapMs);
        yield Buffer.alloc(500, 'b');
      })(),
    );
    const started = performance.now();
    const res = await request(`${s.url}/consumer/path?x=1`, {
      method: 'PUT',
      body,
      headers: { 'sluice-event-id': 'evt_123', 'sluice-attempt': '2' },
      dispatcher: agent(),
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(gapMs * 0.8);

    await waitUntil(() => lines.length > 0, 5_000, 'a log line');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      method: 'PUT',
      path: '/consumer/path?x=1',
      bytes: 1500,
      eventId: 'evt_123',
      attempt: '2',
      status: 200,
    });
    expect(lines[0]!.latencyMs).toBeGreaterThanOrEqual(gapMs * 0.8);
  });

  it('close() resolves promptly with a request parked in its latency delay, and drops it', async () => {
    const s = await sink({ latencyMs: 60_000 });
    const dispatcher = agent();
    const inflight = post(s, dispatcher).then(
      () => 'answered',
      () => 'dropped',
    );
    await waitUntil(() => s.stats().inFlight === 1, 5_000, 'the request in flight');

    const started = performance.now();
    await s.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await inflight).toBe('dropped');
    expect(s.stats()).toMatchObject({ received: 1, answered: {}, inFlight: 0 });
    // Closing twice is harmless.
    await s.close();
  });

  it('close() resolves promptly with an idle keep-alive connection open, and stops listening', async () => {
    const s = await sink();
    const dispatcher = agent();
    expect((await post(s, dispatcher)).status).toBe(200);

    const started = performance.now();
    await s.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(post(s, agent())).rejects.toThrow();
  });

  it('rejects invalid options with SINK_OPTIONS_INVALID', async () => {
    for (const bad of [
      { failRate: 1.5 },
      { failRate: -0.1 },
      { status: 99 },
      { status: 600 },
      { latencyMs: -1 },
      { port: 70_000 },
      { retryAfter: 1.5 },
    ]) {
      const error = await startSink(bad).catch((e: unknown) => e);
      expect(error, JSON.stringify(bad)).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('SINK_OPTIONS_INVALID');
    }
  });

  it('rejects with SINK_LISTEN_FAILED when the port is taken', async () => {
    const first = await sink();
    const error = await startSink({ port: first.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('SINK_LISTEN_FAILED');
  });
});
