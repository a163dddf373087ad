// The DB side: loadCloudStackInventory over 100,000 bucket rows against a bare mysql2 SELECT of the
// same rows and owners, alternated in one run so both see the same server state.
import { createConnection } from 'mysql2/promise';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { loadCloudStackInventory } from '../functions/cloudstack/inventory.js';
import { CloudStackSeed } from '../functions/demo/cloudstack-seed.js';
import { createThrowawayDatabase } from '../functions/demo/throwaway-db.js';
import type { Figure } from './results.js';
import { atMost, median, round } from './results.js';
import { insertAccounts, insertBuckets, spreadOver } from './scale-cloud.js';

const ROUNDS = 7;
const TARGET_RATIO = 1.5;

async function bareSelect(db: DbUrl): Promise<number> {
  const conn = await createConnection({ ...db, timezone: 'Z', charset: 'utf8mb4' });
  try {
    // The rows and owners the rules need, the way anyone would write it: one join, mysql2's defaults.
    const [rows] = await conn.query(
      `SELECT b.id, b.uuid, b.name, b.object_store_id, b.state, b.created, b.removed, b.size, b.quota,
              b.versioning, b.encryption, b.object_lock, b.policy, a.uuid, a.account_name, a.type, a.state,
              a.removed, d.uuid, d.path
         FROM bucket b LEFT JOIN account a ON a.id = b.account_id LEFT JOIN domain d ON d.id = a.domain_id`,
    );
    return (rows as unknown[]).length;
  } finally {
    conn.destroy();
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const out = await work();
  return [performance.now() - started, out];
}

export async function databaseSide(server: DbUrl, buckets: number): Promise<Figure[]> {
  const database = await createThrowawayDatabase(server, '4.21', 'csdrift_bench');
  try {
    const seed = new CloudStackSeed(database.conn);
    const root = await seed.domain('ROOT');
    const store = await seed.store({ name: 'ceph-1', provider: 'Ceph', url: 'http://127.0.0.1:1' });
    const accounts = await insertAccounts(database.conn, root, 1000);
    await insertBuckets(database.conn, store, root, spreadOver(accounts, buckets));
    const loads: number[] = [];
    const bares: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [loadMs, inventory] = await timed(() => loadCloudStackInventory(database.db));
      const [bareMs, rows] = await timed(() => bareSelect(database.db));
      if (inventory.buckets.length !== buckets || rows !== buckets)
        throw new Error(`read ${inventory.buckets.length} and ${rows} rows, planted ${buckets}`);
      loads.push(loadMs);
      bares.push(bareMs);
    }
    const ratio = round(median(loads) / median(bares));
    const n = buckets.toLocaleString('en');
    return [
      {
        id: 'db.inventoryMs',
        label: `inventory load, ${n} bucket rows (median of ${ROUNDS})`,
        value: round(median(loads), 0),
        unit: 'ms',
      },
      {
        id: 'db.bareSelectMs',
        label: `bare mysql2 SELECT, same rows (median of ${ROUNDS})`,
        value: round(median(bares), 0),
        unit: 'ms',
      },
      {
        id: 'db.ratio',
        label: 'inventory load / bare SELECT',
        value: ratio,
        unit: 'x',
        target: atMost(TARGET_RATIO)(ratio),
      },
    ];
  } finally {
    await database.drop();
  }
}
