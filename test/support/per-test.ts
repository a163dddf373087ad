// Per-test set-up shared by the integration files: the RGW emptied, a fresh CloudStack database,
// and a temp folder, all cleaned up afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, inject } from 'vitest';
import type { CloudStackSchema } from '../../functions/core/model.js';
import { wipeStore } from './ceph.js';
import { CephCloud } from './cloud.js';
import { freshCloudStackDb } from './database.js';

export interface PerTest {
  cloud: CephCloud;
  /** A temp folder of the test's own. */
  dir: string;
}

export function cephCloudPerTest(schema: CloudStackSchema): PerTest {
  const ceph = inject('ceph');
  const ctx = {} as PerTest;
  beforeEach(async () => {
    await wipeStore(ceph.conf);
    ctx.cloud = new CephCloud(ceph, await freshCloudStackDb(schema));
    ctx.dir = await mkdtemp(join(tmpdir(), 'csdrift-test-'));
  });
  afterEach(async () => {
    await ctx.cloud.close();
    await rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
