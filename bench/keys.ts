// What the key rules cost (issue 28 sets no target; the figures are context):
// - on a live Ceph RGW with one user per account, as CloudStack's driver makes them: a full audit with
//   the key rules against the same audit without them (the floor), in the same run, and the store
//   requests they add (one user listing, then one read per user);
// - MinIO's encrypted listings: decrypting one list-users answer of 1,000 users as madmin-go's
//   DecryptData does. Argon2id over 64 MiB is its cost by design, paid twice per MinIO store and audit.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { runAudit } from '../functions/audit.js';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { parseAuditConfig } from '../functions/core/config.js';
import { MADMIN_ALGORITHMS, decryptMadmin, encryptMadmin } from '../functions/stores/madmin-crypto.js';
import { createRgwUser } from '../test/support/ceph.js';
import { s3For } from '../test/support/cloud.js';
import { cephBenchCloud } from './ceph-bench-cloud.js';
import type { Figure } from './results.js';
import { median, round } from './results.js';

const KEY_RULES = ['bucket-credentials-stale', 'store-user-orphaned', 'store-admin-bypass'] as const;

export async function keysCost(
  server: DbUrl,
  accounts: number,
  runs: number,
  print: (line: string) => void,
): Promise<Figure[]> {
  const base = await cephBenchCloud(server);
  try {
    const limit = pLimit(8);
    await Promise.all(
      Array.from({ length: accounts }, (_, i) =>
        limit(async () => {
          const account = await base.seed.account(`acct-${i}`, base.domain);
          const keys = await createRgwUser(base.ceph.conf, account.uuid, `acct-${i}`);
          const name = `keys-${i}-${randomBytes(3).toString('hex')}`;
          const s3 = s3For(base.ceph.endpoint, keys);
          await s3.send(new CreateBucketCommand({ Bucket: name }));
          s3.destroy();
          await base.seed.bucket({ name, store: base.store, account, accessKey: keys.accessKey });
        }),
      ),
    );
    print(`keys: ${accounts} accounts, each with its RGW user and a bucket`);
    const audit = async (withKeys: boolean) => {
      const rules = Object.fromEntries(KEY_RULES.map((id) => [id, { enabled: withKeys }]));
      const t = performance.now();
      const { report } = await runAudit({
        db: base.database.db,
        config: parseAuditConfig({
          rules: { ...rules, 'store-admin-bypass': { enabled: withKeys, allowed: ['plainadmin'] } },
        }),
        stores: [],
        rules: [],
        trigger: 'cli',
      });
      if (report.findings.length)
        throw new Error(`the bench cloud is not in sync: ${report.findings[0]?.rule}`);
      return {
        seconds: (performance.now() - t) / 1000,
        requests: report.coverage[0]?.evidence.requests ?? 0,
      };
    };
    const floor: number[] = [];
    const withKeys: number[] = [];
    let requests = { floor: 0, keys: 0 };
    for (let i = 0; i < runs; i++) {
      const f = await audit(false);
      const k = await audit(true);
      floor.push(f.seconds);
      withKeys.push(k.seconds);
      requests = { floor: f.requests, keys: k.requests };
    }
    const ratio = round(median(withKeys) / median(floor));
    print(`keys: ${round(median(withKeys))} s with the key rules, ${round(median(floor))} s without`);

    const users = Object.fromEntries(
      Array.from({ length: 1_000 }, (_, i) => [
        `acs-${i.toString().padStart(8, '0')}-0000-4000-8000-000000000000`,
        { policyName: `acs-${i}-policy`, status: 'enabled', secretKey: randomBytes(20).toString('hex') },
      ]),
    );
    const sealed = await encryptMadmin(
      'bench-secret',
      Buffer.from(JSON.stringify(users)),
      randomBytes(32),
      randomBytes(8),
      MADMIN_ALGORITHMS.argon2idAesGcm,
    );
    const decrypts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await decryptMadmin('bench-secret', sealed);
      decrypts.push(performance.now() - t);
    }
    return [
      {
        id: 'keys.ceph.audit-ratio',
        label: `full audit with the key rules / without (${accounts} users, live RGW)`,
        value: ratio,
        unit: '×',
        detail: `${round(median(withKeys))} s against ${round(median(floor))} s, median of ${runs}`,
      },
      {
        id: 'keys.ceph.extra-requests',
        label: `store requests the key rules add (${accounts} account users + the harness's)`,
        value: requests.keys - requests.floor,
        unit: 'requests',
        detail: 'one user listing, then one read per user',
      },
      {
        id: 'keys.minio.decrypt-ms',
        label: `decrypting one MinIO list-users answer of 1,000 users (${Math.round(sealed.length / 1024)} KiB)`,
        value: round(median(decrypts), 0),
        unit: 'ms',
        detail: `Argon2id t=1 m=64 MiB p=4, then AES-256-GCM; median of ${runs}`,
      },
    ];
  } finally {
    await base.close();
  }
}
