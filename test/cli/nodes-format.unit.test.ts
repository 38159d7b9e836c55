/** `sluice status` with a shared journal: the live nodes under the destinations, each with what it drains. */
import { describe, expect, it } from 'vitest';
import type { ApiNode } from '../../src/admin/schemas.js';
import { formatStatus } from '../../src/cli/status-command.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const node = (pid: number, over: Partial<ApiNode> = {}): ApiNode => ({
  id: `id-${pid}`,
  self: false,
  host: 'db1',
  pid,
  version: '0.1.0',
  ingest_url: `http://10.0.0.${pid}:8080`,
  admin_url: null,
  started_at: new Date(NOW - 125_000).toISOString(),
  seen_at: new Date(NOW - 400).toISOString(),
  draining: {
    crm: { in_flight: 3, claimed: 1, delivered_per_second: 12.4, rate_per_second: 40, concurrency: 8 },
    blog: { in_flight: 0, claimed: 0, delivered_per_second: 0, rate_per_second: null, concurrency: 2 },
  },
  ...over,
});

describe('status with several nodes', () => {
  it('lists each live node, the one that answered marked, with what it drains, a silent one flagged', () => {
    const text = formatStatus(
      {
        destinations: [],
        nodes: [
          node(1, { self: true, seen_at: new Date(NOW).toISOString() }),
          node(2, { seen_at: new Date(NOW - 3_200).toISOString() }),
          node(3, { draining: {} }),
        ],
      },
      'http://127.0.0.1:8081',
      NOW,
    );
    expect(text).toContain('NODES: 3 live on the shared journal');
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('db1:1 (this)'))).toMatch(
      /2m05s\s+0s ago\s+http:\/\/10\.0\.0\.1:8080\s+crm 3 in flight 12\/s$/,
    );
    expect(lines.find((l) => l.startsWith('db1:2'))).toContain('3s ago (silent)');
    expect(lines.find((l) => l.startsWith('db1:3'))).toMatch(/idle$/);
  });

  it("judges the nodes' ages on the answering node's clock, not on the clock of the machine asking", () => {
    // The answering node's seen_at is its clock at the answer; the CLI's clock is 10 s ahead of it.
    const gatewayNow = NOW - 10_000;
    const at = (ms: number) => new Date(gatewayNow - ms).toISOString();
    const text = formatStatus(
      {
        destinations: [],
        nodes: [
          node(1, { self: true, seen_at: at(0), started_at: at(125_000) }),
          node(2, { seen_at: at(400), started_at: at(5_000) }),
          node(3, { seen_at: at(3_200), started_at: at(5_000) }),
        ],
      },
      'http://127.0.0.1:8081',
      NOW,
    );
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('db1:1 (this)'))).toMatch(/2m05s\s+0s ago\s/);
    expect(lines.find((l) => l.startsWith('db1:2'))).toMatch(/5s\s+0s ago\s/);
    expect(lines.find((l) => l.startsWith('db1:3'))).toContain('3s ago (silent)');
  });

  it('shows no node table with a journal of its own', () => {
    expect(formatStatus({ destinations: [] }, 'http://x', NOW)).not.toContain('NODES');
  });
});
