/**
 * Drill: Sluice's own backlog fills the journal's space, with nothing else to delete. The consumer
 * is down while senders post 4 KB events until Sluice answers 503; then the consumer comes back.
 * Every acknowledged event must be delivered, and ingest must take events again by itself once
 * delivery has freed space. Run both ways: a real 4 MiB tmpfs (root, as in CI), and
 * `storage.max_size` on an ordinary disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

const ways = [
  { name: 'a 4 MiB tmpfs', tmpfs: true },
  { name: 'storage.max_size: 2mb', tmpfs: false },
];

describe('drill: the backlog fills the journal space', () => {
  it.each(ways)(
    'on $name: ingest stops with 503 before delivery is blocked, every ack is delivered, ingest recovers',
    {
      timeout: 180_000,
    },
    async ({ tmpfs }) => {
      t.tmp = tempDir();
      const disk = join(t.tmp.dir, 'disk');
      mkdirSync(disk);
      if (tmpfs) {
        if (!mountSmallDisk(disk)) {
          if (process.env.CI === 'true') throw new Error('cannot mount a tmpfs under CI=true: this drill must run');
          console.warn('skipped: cannot mount a tmpfs here (needs root)');
          return;
        }
        t.cleanups.push(() => execFileSync('umount', ['-l', disk]));
      }
      const port = await portOutsideEphemeralRange();
      const config = writeDrillConfig(t.tmp.dir, {
        receiverUrl: `http://127.0.0.1:${port}`,
        dbPath: join(disk, 'sluice.db'),
        destination: 'timeout: 2s, concurrency: 4, retry: { initial: 200ms, max: 1s, max_attempts: 1000 }',
        ...(!tmpfs && { storage: 'max_size: 2mb' }),
      });
      t.child = await startGatewayProcess(config);

      // The consumer is down: post until Sluice refuses 20 in a row.
      const acked: number[] = [];
      let n = 0;
      let refusedInARow = 0;
      for (; n < 5_000 && refusedInARow < 20; n++) {
        const r = await postN(t.child.port, n, 4 * 1024);
        if (r.status === 202) {
          acked.push(n);
          refusedInARow = 0;
        } else {
          expect(r.status).toBe(503);
          expect(Number(r.retryAfter)).toBeGreaterThan(0);
          refusedInARow++;
        }
      }
      expect(refusedInARow).toBe(20);
      expect(acked.length).toBeGreaterThan(50);

      // The consumer comes back: every acknowledged event arrives, with no operator action.
      t.receiver = await startReceiver(undefined, port);
      await waitUntil(
        () => {
          const arrived = eventNumbers(t.receiver!.received);
          return acked.every((x) => arrived.has(x));
        },
        90_000,
        `every one of ${acked.length} acknowledged events to be delivered`,
      );
      // Delivery freed the space: ingest takes events again by itself.
      await waitUntil(
        async () => {
          const accepted = (await postN(t.child!.port, n++, 4 * 1024)).status === 202;
          if (accepted) acked.push(n - 1);
          return accepted;
        },
        60_000,
        'ingest to recover',
      );
      expect(t.child.process.exitCode).toBeNull();
      console.log(
        `self-filled disk (${tmpfs ? 'tmpfs 4 MiB' : 'max_size 2mb'}): ${acked.length} acknowledged, all delivered`,
      );
    },
  );
});
