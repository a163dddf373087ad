// A store behind HTTPS with a private CA (config stores.*.caBundle / caBundleFile): the live RGW
// behind a TLS terminator whose certificate a throwaway CA signed (openssl). Trusted with the CA,
// the audit finds the seed case; without it, the store is unreachable and nothing is reported missing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import type { Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { csdrift } from '../support/cli.js';
import { selfSignedCertificate } from '../support/self-signed.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');

describe('a store behind HTTPS signed by a private CA', () => {
  const ctx = cephCloudPerTest('4.21');
  let dir: string;
  let server: Server;
  let endpoint: string;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-tls-'));
    const { keyFile: key, certFile } = selfSignedCertificate(dir, 'IP:127.0.0.1');
    caFile = certFile;
    const rgw = new URL(ceph.endpoint);
    // Bytes passed through unchanged: the SigV4 signature covers the Host the client sent.
    server = createServer({ key: await readFile(key), cert: await readFile(caFile) }, (client) => {
      const upstream = connect(Number(rgw.port), rgw.hostname);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  async function audit(store: Record<string, unknown>) {
    const config = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(config, JSON.stringify({ stores: { 'ceph-1': { endpoint, ...store } } }));
    const run = await csdrift([
      'audit',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--config',
      config,
      '--json',
      '--quiet',
      '--out',
      ctx.dir,
    ]);
    return { ...run, report: run.stdout ? (JSON.parse(run.stdout) as Report) : null };
  }

  it('trusts the store with caBundleFile and finds the seed case; without it, the store is unreachable and nothing is missing', async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);

    // Act
    const trusted = await audit({ caBundleFile: caFile });
    const untrusted = await audit({});
    const notPem = await audit({ caBundle: 'not a certificate' });

    // Assert
    expect(trusted.code, trusted.stderr).toBe(1);
    expect(trusted.report?.coverage[0]?.status).toBe('verified');
    expect(trusted.report?.findings.map((f) => [f.rule, f.bucket])).toEqual([
      ['bucket-missing-in-store', gone],
    ]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.report?.coverage[0]?.status).toBe('unreachable');
    expect(untrusted.report?.coverage[0]?.error).toMatch(/certificate/i);
    expect(untrusted.report?.findings.map((f) => f.rule)).toEqual(['store-unverified']);
    expect(notPem.code).toBe(3);
    expect(notPem.stderr).toMatch(/stores\.ceph-1\.caBundle: expected PEM certificates/);
  }, 120_000);
});
