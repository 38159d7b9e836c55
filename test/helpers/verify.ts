/** One verified source on a real ingest app, with the checks every verification test makes. */
import { expect } from 'vitest';
import { type IngestFixtureOptions, ingestFixture } from './ingest.js';

export function verifiedSource(source: Record<string, unknown>, options: Omit<IngestFixtureOptions, 'sources'> = {}) {
  const fixture = ingestFixture({ ...options, sources: { src: { path: '/in/src', to: 'crm', ...source } } });
  let before = 0;
  return {
    fixture,
    post(body: string | Uint8Array, headers: Record<string, string> = {}) {
      before = fixture.accepted.length;
      return fixture.app.request('/in/src', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });
    },
    /** 202 with an id, and the event is in the journal with its signature headers. */
    async expectAccepted(res: Response) {
      expect(res.status, await res.clone().text()).toBe(202);
      const { id } = (await res.json()) as { id: string };
      expect(await fixture.journal.getEvent(id)).toBeDefined();
    },
    /** 401 signature_invalid naming `reason`, and nothing journaled by the last `post`. */
    async expectRejected(res: Response, reason: RegExp) {
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('signature_invalid');
      expect(body.error.message).toMatch(reason);
      expect(fixture.accepted).toHaveLength(before);
      expect(await fixture.stored()).toBe(before);
    },
    close: () => fixture.close(),
  };
}
