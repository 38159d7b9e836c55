/** Posts events to a gateway over real HTTP and returns the acknowledged ids. */
import { request } from 'undici';

export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; id?: string }> {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.body.text();
  return { status: res.statusCode, ...(res.statusCode < 300 && { id: (JSON.parse(text) as { id: string }).id }) };
}

/** Posts `n` events one after another; bodies are `{"n":i}`. Throws unless each is acknowledged. */
export async function postMany(url: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post(url, JSON.stringify({ n: i }));
    if (!r.id) throw new Error(`event ${i} got ${r.status}`);
    ids.push(r.id);
  }
  return ids;
}
