// One throwaway single-node Ceph cluster (mon, OSD, radosgw) on loopback for the whole test run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, freePortRange } from './ports.js';

const run = promisify(execFile);
const here = new URL('.', import.meta.url).pathname;

export interface Keys {
  accessKey: string;
  secretKey: string;
}

export interface CephCluster {
  dir: string;
  conf: string;
  endpoint: string;
  /** A --system user with admin caps: reads every user's buckets. */
  systemAdmin: Keys;
  /** A plain user with admin caps, as most installations have. */
  plainAdmin: Keys;
  /** A plain user that may list buckets but not read their metadata (no metadata cap). */
  listingAdmin: Keys;
  /** radosgw's ops log (one JSON object per line). */
  opsLog: string;
}

export async function startCeph(): Promise<CephCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'csdrift-ceph-'));
  const env = {
    ...process.env,
    MON_PORT: String(await freePort()),
    RGW_PORT: String(await freePort()),
    OSD_PORT_MIN: String(await freePortRange(100)),
    S3_SYSTEM: '1',
    S3_UID: 'auditadmin',
    S3_ACCESS_KEY: 'CSDRIFTSYSADMIN00001',
    S3_SECRET_KEY: 'csdriftSystemAdminSecret000000000000001',
    RGW_OPS_LOG: join(dir, 'log', 'rgw-ops.log'),
  };
  try {
    await run('bash', [join(here, 'ceph-up.sh'), dir], { env, timeout: 180_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `Ceph did not come up (needs: apt-get install ceph-mon ceph-osd radosgw ceph-common): ${e.stderr?.slice(-2000) ?? e.message}`,
      { cause: err },
    );
  }
  const vars = Object.fromEntries(
    (await readFile(join(dir, 'env'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const conf = vars.CEPH_CONF as string;
  const plainAdmin = await createRgwUser(conf, 'plainadmin', 'Plain admin', {
    keys: { accessKey: 'CSDRIFTPLAINADMIN001', secretKey: 'csdriftPlainAdminSecret0000000000000001' },
    caps: PLAIN_ADMIN_CAPS,
  });
  const listingAdmin = await createRgwUser(conf, 'listingadmin', 'Listing admin', {
    keys: { accessKey: 'CSDRIFTLISTADMIN0001', secretKey: 'csdriftListingAdminSecret00000000000001' },
    caps: 'users=read;buckets=read;usage=read',
  });
  return {
    dir,
    conf,
    endpoint: vars.S3_ENDPOINT as string,
    systemAdmin: { accessKey: env.S3_ACCESS_KEY, secretKey: env.S3_SECRET_KEY },
    plainAdmin,
    listingAdmin,
    opsLog: env.RGW_OPS_LOG,
  };
}

export async function stopCeph(cluster: Pick<CephCluster, 'dir'>): Promise<void> {
  await run('bash', [join(here, 'ceph-down.sh'), cluster.dir], { timeout: 60_000 }).catch(() => {});
}

export async function radosgwAdmin(conf: string, args: string[]): Promise<string> {
  const { stdout } = await run('radosgw-admin', ['-c', conf, ...args], { timeout: 60_000 });
  return stdout;
}

/** The harness's plain admin, made again if a wipe removed it. */
export async function ensurePlainAdmin(conf: string, keys: Keys): Promise<void> {
  const uids = JSON.parse(await radosgwAdmin(conf, ['user', 'list'])) as string[];
  if (!uids.includes('plainadmin'))
    await createRgwUser(conf, 'plainadmin', 'Plain admin', { keys, caps: PLAIN_ADMIN_CAPS });
}

const PLAIN_ADMIN_CAPS = 'users=*;buckets=*;metadata=*;usage=read';

/** An RGW user, with fresh keys unless given, as CloudStack's Ceph driver makes one per account. */
export async function createRgwUser(
  conf: string,
  uid: string,
  displayName: string,
  { keys, caps }: { keys?: Keys; caps?: string } = {},
): Promise<Keys> {
  const made = keys ?? {
    accessKey: randomBytes(10).toString('hex').toUpperCase(),
    secretKey: randomBytes(20).toString('hex'),
  };
  await radosgwAdmin(conf, [
    'user',
    'create',
    `--uid=${uid}`,
    `--display-name=${displayName}`,
    `--access-key=${made.accessKey}`,
    `--secret-key=${made.secretKey}`,
    ...(caps ? [`--caps=${caps}`] : []),
  ]);
  return made;
}

/**
 * The users that stay for the whole run: every other user belongs to one test. The plain admin is
 * made again by the stores that use it (cloud.ts), so that a store whose CloudStack uses the system
 * admin has no second principal that can delete every bucket (store-admin-bypass).
 */
export const HARNESS_USERS = ['auditadmin', 'listingadmin'] as const;

/**
 * Removes every user but the harness's own, so that each test's store has only the users of its own
 * CloudStack: another test's account users would be orphans to it (store-user-orphaned).
 */
export async function wipeUsers(conf: string): Promise<void> {
  const uids = JSON.parse(await radosgwAdmin(conf, ['user', 'list'])) as string[];
  const extra = uids.filter((u) => !(HARNESS_USERS as readonly string[]).includes(u));
  for (let i = 0; i < extra.length; i += 8) {
    await Promise.all(
      extra.slice(i, i + 8).map((uid) => radosgwAdmin(conf, ['user', 'rm', `--uid=${uid}`, '--purge-data'])),
    );
  }
}

/** Removes every bucket and every test's user, so that each test sees only what it planted. */
export async function wipeStore(conf: string): Promise<void> {
  await wipeBuckets(conf);
  await wipeUsers(conf);
}

/** Removes every bucket in the cluster. */
async function wipeBuckets(conf: string): Promise<void> {
  const names = JSON.parse(await radosgwAdmin(conf, ['bucket', 'list'])) as string[];
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(
      names
        .slice(i, i + 8)
        .map((b) => radosgwAdmin(conf, ['bucket', 'rm', `--bucket=${b}`, '--purge-objects'])),
    );
  }
}
