/** Ordering keys read at ingest: per destination ordered by key, with the dedupe key syntax. */
import { describe, expect, it } from 'vitest';
import { createOrderKeyReader } from '../../src/ingest/order-keys.js';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const destinations = {
  crm: { ordering: { key: 'json:/customer_id' } },
  billing: { ordering: { key: 'json:/customer_id' } },
  shop: { ordering: { key: 'header:x-shopify-shop-domain' } },
  erp: { ordering: 'fifo' as const },
  log: { ordering: 'unordered' as const },
};

describe('ordering keys at ingest', () => {
  it('gives no reader to a source none of whose destinations orders by key', () => {
    expect(createOrderKeyReader(['erp', 'log'], destinations)).toBeUndefined();
  });

  it('reads each keyed destination’s key, from the body or a header', () => {
    const read = createOrderKeyReader(['crm', 'shop', 'erp'], destinations)!;
    expect(read([['X-Shopify-Shop-Domain', 'a.myshopify.com']], json({ customer_id: 42 }))).toEqual({
      crm: '42',
      shop: 'a.myshopify.com',
    });
  });

  it('leaves out a destination whose key is missing, empty or unreadable: the event is keyless there', () => {
    const read = createOrderKeyReader(['crm', 'shop'], destinations)!;
    expect(read([], json({ other: 1 }))).toBeUndefined();
    expect(read([], json({ customer_id: '' }))).toBeUndefined();
    expect(read([['x-shopify-shop-domain', 'b']], new TextEncoder().encode('not json'))).toEqual({ shop: 'b' });
  });

  it('gives destinations with the same key spec the same key', () => {
    const read = createOrderKeyReader(['crm', 'billing'], destinations)!;
    expect(read([], json({ customer_id: 'c1' }))).toEqual({ crm: 'c1', billing: 'c1' });
  });
});
