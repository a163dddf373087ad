// Where the live-RGW benchmarks start: their own Ceph cluster, a throwaway CloudStack database, its
// ROOT domain and the RGW registered as store ceph-1 with the system admin's keys; and the way out.
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import type { SeedDomain, SeedStore } from '../functions/demo/cloudstack-seed.js';
import { CloudStackSeed } from '../functions/demo/cloudstack-seed.js';
import type { ThrowawayDatabase } from '../functions/demo/throwaway-db.js';
import { createThrowawayDatabase } from '../functions/demo/throwaway-db.js';
import type { CephCluster } from '../test/support/ceph.js';
import { startCeph, stopCeph } from '../test/support/ceph.js';

export interface CephBenchCloud {
  ceph: CephCluster;
  database: ThrowawayDatabase;
  seed: CloudStackSeed;
  domain: SeedDomain;
  store: SeedStore;
  /** Drops the database and stops the cluster. */
  close(): Promise<void>;
}

export async function cephBenchCloud(server: DbUrl): Promise<CephBenchCloud> {
  const ceph = await startCeph();
  let database: ThrowawayDatabase | undefined;
  try {
    database = await createThrowawayDatabase(server, '4.21', 'csdrift_bench');
    const seed = new CloudStackSeed(database.conn);
    const domain = await seed.domain('ROOT');
    const store = await seed.store({
      name: 'ceph-1',
      provider: 'Ceph',
      url: ceph.endpoint,
      ...ceph.systemAdmin,
    });
    const made = database;
    return {
      ceph,
      database,
      seed,
      domain,
      store,
      close: async () => {
        await made.drop();
        await stopCeph(ceph);
      },
    };
  } catch (err) {
    await database?.drop().catch(() => {});
    await stopCeph(ceph);
    throw err;
  }
}
