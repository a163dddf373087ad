// vitest global setup: one Ceph cluster for the whole run, handed to the test files through provide().
import type { TestProject } from 'vitest/node';
import type { CephCluster } from './ceph.js';
import { startCeph, stopCeph } from './ceph.js';

declare module 'vitest' {
  export interface ProvidedContext {
    ceph: CephCluster;
  }
}

let cluster: CephCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  cluster = await startCeph();
  process.stderr.write(`Ceph RGW up at ${cluster.endpoint} in ${Date.now() - started} ms\n`);
  project.provide('ceph', cluster);
}

export async function teardown(): Promise<void> {
  if (cluster) await stopCeph(cluster);
}
