/**
 * Drill: the journal's disk fills up. The journal lives on a real 4 MiB tmpfs (the test runs as
 * root, as CI does; without mount rights it uses storage.max_size, SQLite's own cap, instead).
 * Senders get 503 with Retry-After, never a 2xx for an event that was not stored; once space is
 * freed, Sluice takes events again by itself, and every acknowledged event is delivered.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTest, startGatewayProcess } from '../../helpers/child.js';
import {
  eventNumbers,
  mountSmallDisk,
  portOutsideEphemeralRange,
  postN,
  writeDrillConfig,
} from '../../helpers/drill.js';
import { tempDir } from '../../helpers/gateway.js';
import { startReceiver } from '../../helpers/receiver.js';
import { waitUntil } from '../../helpers/wait.js';

const t = processTest();

describe('drill: disk full', () => {
  it('answers 503 with Retry-After while the disk is full, never a lost 2xx, and recovers once space is freed', {
    timeout: 120_000,
  }, async () => {
    t.tmp = tempDir();
    const disk = join(t.tmp.dir, 'disk');
    mkdirSync(disk);
    const realDisk = mountSmallDisk(disk);
    if (realDisk) t.cleanups.push(() => execFileSync('umount', ['-l', disk]));
    // The consumer is down (nobody listens on its port) until the end: nothing is delivered meanwhile.
    const downUrl = `http://127.0.0.1:${await portOutsideEphemeralRange()}`;
    const config = writeDrillConfig(t.tmp.dir, {
      receiverUrl: downUrl,
      dbPath: join(disk, 'sluice.db'),
      // A short timeout keeps leases short: an outcome that could not be recorded on the full disk
      // is retried once its lease expires.
      destination: 'timeout: 1s, retry: { initial: 200ms, max: 500ms, max_attempts: 1000 }',
      ...(!realDisk && { storage: 'max_size: 2mb' }),
    });
    t.child = await startGatewayProcess(config);

    // A filler leaves the journal ~1.5 MiB to grow into.
    const filler = join(disk, 'filler');
    if (realDisk) writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));

    const acked: number[] = [];
    let refused = 0;
    let n = 0;
    for (; n < 2_000 && refused < 20; n++) {
      const r = await postN(t.child.port, n, 8 * 1024);
      if (r.status === 202) acked.push(n);
      else {
        expect(r.status).toBe(503);
        expect(Number(r.retryAfter)).toBeGreaterThan(0);
        refused++;
      }
    }
    expect(refused).toBe(20);
    expect(acked.length).toBeGreaterThan(10);
    expect(t.child.process.exitCode).toBeNull();

    if (realDisk) {
      // Space comes back: the same gateway, untouched, takes events again.
      rmSync(filler);
      await waitUntil(
        async () => {
          const accepted = (await postN(t.child!.port, n++, 8 * 1024)).status === 202;
          if (accepted) acked.push(n - 1);
          return accepted;
        },
        10_000,
        'ingest to recover',
        // Each check stores an 8 KiB event.
        { intervalMs: 50 },
      );
    }

    // The consumer comes back: every acknowledged event arrives.
    t.receiver = await startReceiver(undefined, Number(new URL(downUrl).port));
    await waitUntil(
      () => {
        const arrived = eventNumbers(t.receiver!.received);
        return acked.every((x) => arrived.has(x));
      },
      60_000,
      'every acknowledged event',
    );
    console.log(
      `disk full (${realDisk ? 'tmpfs 4 MiB' : 'max_size 2mb'}): ${acked.length} acknowledged, ${refused} refused with 503, all acknowledged delivered`,
    );
  });
});
