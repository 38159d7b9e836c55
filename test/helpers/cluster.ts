/**
 * The parts of a drill that runs several `sluice` processes on one PostgreSQL database: a fresh
 * database for the file, and, stopped and removed after it, every node the test started, the
 * receiver and the temporary directory it made. Call inside the `describe`.
 */
import { afterAll, beforeAll } from 'vitest';
import type { GatewayProcess } from './child.js';
import type { tempDir } from './gateway.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import type { Receiver } from './receiver.js';

export interface ClusterDrill {
  /** The file's database (made before its tests run). */
  db: TestDatabase;
  /** Every node started: killed after the file. */
  readonly nodes: GatewayProcess[];
  /** The receiver the test starts: closed after the file. */
  receiver: Receiver | undefined;
  /** The temporary directory the test makes: removed after the file. */
  tmp: ReturnType<typeof tempDir> | undefined;
}

export function clusterDrill(): ClusterDrill {
  const drill: Partial<ClusterDrill> & Pick<ClusterDrill, 'nodes'> = { nodes: [] };
  beforeAll(async () => {
    drill.db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const n of drill.nodes) {
      n.process.kill('SIGKILL');
      await n.exited;
    }
    await drill.receiver?.close();
    drill.tmp?.remove();
    await drill.db?.drop();
  });
  return drill as ClusterDrill;
}
