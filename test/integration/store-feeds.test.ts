// The stores' own change feeds end to end: a live RGW writing its ops log to a file (the harness
// turns it on), followed by the watcher, whose targeted audits reach the SNS stand-in; MinIO's audit
// webhook and ListenNotification stream in the shapes MinIO's source produces (the MinIO stand-in).
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { Watcher } from '../../functions/watch/watcher.js';
import { testWatcher } from '../support/watcher.js';
import { FAST_SCAN } from '../support/audit.js';
import { SnsStandIn } from '../support/aws-standins.js';
import { bucketName } from '../support/cloud.js';
import { MinioStandin } from '../support/minio-standin.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { until } from '../support/until.js';
import { parseMinioAudit } from '../../functions/sources/minio-event.js';
import { toQueueMessage } from '../../functions/sources/queued-event.js';
import { EventSpool, STORE_EVENTS_SUFFIX } from '../../functions/state/spool.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';

const ceph = inject('ceph');
const TOKEN = 'Bearer minio-audit-token-1';

/** radosgw reopens its ops log on SIGHUP (seen on 16.2.15): logrotate's `postrotate` does this. */
async function rotateOpsLog(): Promise<void> {
  await rename(ceph.opsLog, `${ceph.opsLog}.1`);
  const pid = Number((await readFile(join(ceph.dir, 'run', 'client.rgw.gw.pid'), 'utf8')).trim());
  process.kill(pid, 'SIGHUP');
}

/** An ops log line as RGW 16.2.15 writes it (FACTS.md, "Ceph RGW ops log"), for a synthetic log. */
function opsLine(bucket: string, operation: string, status = '200', key = ''): string {
  const at = new Date().toISOString().replace('Z', '000Z');
  return JSON.stringify({
    bucket,
    time: at,
    time_local: at.replace('Z', '+0000'),
    remote_addr: '127.0.0.1',
    user: 'someone',
    operation,
    uri: `${operation === 'delete_bucket' ? 'DELETE' : 'PUT'} /${bucket}/${key} HTTP/1.1`,
    http_status: status,
    error_code: '',
    bytes_sent: 0,
    bytes_received: 1024,
    object_size: 1024,
    total_time: 3,
    user_agent: 'aws-sdk-js/3',
    referrer: '',
    trans_id: 'tx00000000000000000000-0000000000-1016-default',
    authentication_type: 'Local',
    access_key_id: 'AKIDSOMEONE',
    temp_url: false,
  });
}

describe("csdrift watch follows the stores' own change feeds", () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let watcher: Watcher | undefined;
  const lines: string[] = [];

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    lines.length = 0;
  });
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') console.error(lines.join('\n'));
    await watcher?.stop();
    watcher = undefined;
    await sns.stop();
  });

  async function startWatcher(watch: Record<string, unknown>, debounceSeconds = 0.5): Promise<string> {
    const config = parseAuditConfig({
      scan: FAST_SCAN,
      watch: { listen: '127.0.0.1:0', debounceSeconds, ...watch },
    });
    watcher = testWatcher({
      db: ctx.cloud.database.db,
      dir: ctx.dir,
      config,
      sns,
      lines,
      feedMissingAfterMs: 300,
    });
    return watcher.start();
  }

  const kinds = () => sns.published.map((m) => `${m.attributes.kind} ${m.attributes.rule}`);
  const settle = () => new Promise((r) => setTimeout(r, 2500)); // anything more would have come by now

  it('RGW ops log: each store-side change is told once and its undoing resolved, across a log rotation', async () => {
    // Prepare: buckets in sync, one private with versioning off
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const s3 = ctx.cloud.client(alice.keys);
    const n = {
      gone: bucketName('gone'),
      open: bucketName('open'),
      ver: bucketName('ver'),
      after: bucketName('after'),
    };
    await ctx.cloud.bucket(n.gone, store, alice);
    await ctx.cloud.bucket(n.open, store, alice, { policy: 'private', versioning: false });
    await ctx.cloud.bucket(n.ver, store, alice, { versioning: false });
    await ctx.cloud.bucket(n.after, store, alice);
    const unknown = bucketName('unknown');
    const address = await startWatcher({ opsLogs: { 'ceph-1': ceph.opsLog } });

    // Act: deleted in the store, behind CloudStack's back
    const deletedAt = Date.now();
    await ctx.cloud.deleteInStore(n.gone, alice.keys);
    await until('the task', () => sns.published.length >= 1, 15_000);
    const tookMs = Date.now() - deletedAt;

    // Assert: exactly one task, well within 15 s
    await settle();
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    expect(sns.published[0]?.message).toContain(n.gone);
    expect(tookMs).toBeLessThan(15_000);
    // Who did it, as RGW's ops log tells it: the requester's uid, its address and its client.
    expect(sns.published[0]?.message).toMatch(
      new RegExp(
        `Cause: deleted in the store at \\d\\d:\\d\\d:\\d\\d UTC by user ${alice.uuid} from 127\\.0\\.0\\.1, aws-sdk-js/\\S+ \\(ops-log\\)\\.`,
      ),
    );

    // Act: an unknown bucket, a private bucket made public, versioning switched on
    await ctx.cloud.createInStore(unknown, alice.keys);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: n.open,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${n.open}/*` },
          ],
        }),
      }),
    );
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: n.ver, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await until('three more tasks', () => sns.published.length >= 4, 15_000);
    await settle();

    // Assert
    expect(kinds().sort()).toEqual(
      [
        'task bucket-missing-in-store',
        'task bucket-policy-mismatch',
        'task bucket-unmanaged-in-store',
        'task bucket-versioning-mismatch',
      ].sort(),
    );

    // Act: the log is rotated; then every change is undone, and one more bucket is deleted
    await rotateOpsLog();
    await ctx.cloud.createInStore(n.gone, alice.keys);
    await ctx.cloud.deleteInStore(unknown, alice.keys);
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: n.ver, VersioningConfiguration: { Status: 'Suspended' } }),
    );
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: n.open }));
    await ctx.cloud.deleteInStore(n.after, alice.keys);
    await until('the resolved messages and the new task', () => sns.published.length >= 9, 15_000);
    await settle();

    // Assert: four resolved, one new task from the new file
    expect(kinds().slice(4).sort()).toEqual(
      [
        'resolved bucket-missing-in-store',
        'resolved bucket-policy-mismatch',
        'resolved bucket-unmanaged-in-store',
        'resolved bucket-versioning-mismatch',
        'task bucket-missing-in-store',
      ].sort(),
    );
    const newTasks = sns.published.slice(4).filter((m) => m.attributes.kind === 'task');
    expect(newTasks[0]?.message).toContain(n.after);
    expect(await readFile(ceph.opsLog, 'utf8')).toContain(`"bucket":"${n.after}"`); // from the new file
    const health = (await (await fetch(`http://${address}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
  });

  it('a flood of 100,000 object lines with one delete inside, a replayed entry, garbage and a partial line: one task', async () => {
    // Prepare: a log the test writes (as RGW would), for a store whose bucket is really gone
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    const busy = bucketName('busy');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    await ctx.cloud.bucket(busy, store, alice);
    const log = join(ctx.dir, 'ops.log');
    await writeFile(log, `${opsLine(busy, 'put_obj', '200', 'old')}\n`); // before the start: not read
    const address = await startWatcher({ opsLogs: { 'ceph-1': log } });

    // Act
    const flood: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      flood.push(opsLine(busy, i % 3 ? 'put_obj' : 'get_obj', '200', `k${i}`));
      if (i === 50_000)
        flood.push(opsLine(gone, 'delete_bucket', '204'), 'garbage {', opsLine(gone, 'delete_bucket', '204'));
      if (i === 60_000) flood.push(opsLine(busy, 'delete_bucket', '409')); // refused: changes nothing
    }
    const started = Date.now();
    await appendFile(log, `${flood.join('\n')}\n${opsLine(busy, 'create_bucket').slice(0, 40)}`); // a partial last line
    await until('the task', () => sns.published.length >= 1, 15_000);
    const tookMs = Date.now() - started;
    await settle();

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    expect(sns.published[0]?.message).toContain(gone);
    expect(tookMs).toBeLessThan(15_000);
    expect(lines.filter((l) => l.startsWith('event ')).join('\n')).not.toContain(busy);
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    expect(metrics).toMatch(/csdrift_events_received_total\{source="ops-log"\} 2/);
    expect(metrics).toMatch(/csdrift_events_dropped_total\{source="ops-log",reason="malformed"\} 1/);

    // Act: the file disappears
    await rm(log);
    await until('degraded', async () => {
      const health = (await (await fetch(`http://${address}/healthz`)).json()) as { status: string };
      return health.status === 'degraded';
    });

    // Assert
    expect(await (await fetch(`http://${address}/metrics`)).text()).toMatch(
      /csdrift_event_source_up\{source="ops-log ceph-1"\} 0/,
    );
  });

  it('a delete made through CloudStack reaches the feed before CloudStack marks its row removed, and a bucket made again: no finding', async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const name = bucketName('bycs');
    const row = await ctx.cloud.bucket(name, store, alice);
    await startWatcher({ opsLogs: { 'ceph-1': ceph.opsLog } }, 3);

    // Act: someone deletes a bucket and makes it again within the debounce
    const back = bucketName('back');
    await ctx.cloud.bucket(back, store, alice);
    await ctx.cloud.deleteInStore(back, alice.keys);
    await ctx.cloud.createInStore(back, alice.keys);
    // Act: CloudStack's driver deletes in the store first, then (a slow second later) marks the row
    await ctx.cloud.deleteInStore(name, alice.keys);
    await new Promise((r) => setTimeout(r, 1000));
    await ctx.cloud.database.conn.query('UPDATE bucket SET removed = NOW(), state = ? WHERE id = ?', [
      'Destroyed',
      row.id,
    ]);
    await until(
      'the audits',
      () => [name, back].every((b) => lines.some((l) => l.includes(`bucket ${b}:`))),
      15_000,
    );
    await settle();

    // Assert
    expect(sns.published).toEqual([]);
    expect(lines.find((l) => l.includes(`bucket ${name}:`))).toMatch(/in sync/);
    expect(lines.find((l) => l.includes(`bucket ${back}:`))).toMatch(/in sync/);
  });

  it('a MinIO delivery spooled by a watcher that died before its audit is audited at the next start', async () => {
    // Prepare: the seed case, and the spool file the dead watcher left (written as the watcher writes it)
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const spool = new EventSpool(new FolderStorage(join(ctx.dir, 'watch-state')));
    const event = parseMinioAudit(
      JSON.stringify(minioAuditEntry('DeleteBucket', gone, 204)),
      'ceph-1',
      () => new Date(),
    );
    await spool.save(`[${event.map(toQueueMessage).join(',')}]`, STORE_EVENTS_SUFFIX);

    // Act
    await startWatcher({ minio: { authToken: TOKEN } });
    await until('the task', () => sns.published.length >= 1, 15_000);
    await until('the spool emptied', async () => (await spool.pending()).length === 0);

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    expect(sns.published[0]?.message).toContain(gone);
  });

  it("MinIO: audit webhook entries with the right token become audits; a wrong token is refused; ListenNotification's BucketRemoved too", async () => {
    // Prepare: a MinIO-shaped store (S3 served by the live RGW), two buckets CloudStack knows
    const minio = await new MinioStandin(ceph.endpoint, ceph.systemAdmin).start();
    try {
      const store = await ctx.cloud.seed.store({
        name: 'minio-1',
        provider: 'MinIO',
        url: minio.endpoint,
        ...ceph.systemAdmin,
      });
      const alice = await ctx.cloud.seed.account('alice', await ctx.cloud.rootDomain());
      const viaAudit = bucketName('audited');
      const viaListen = bucketName('listened');
      for (const name of [viaAudit, viaListen]) {
        await ctx.cloud.createInStore(name, ceph.systemAdmin);
        await ctx.cloud.seed.bucket({ name, store, account: alice, accessKey: `acs-${alice.uuid}` });
      }
      const address = await startWatcher({ minio: { authToken: TOKEN, listen: true } });
      await until('the listener', () => minio.listeners > 0);

      // Act: deleted in the MinIO console; the audit webhook posts the entry (madmin-go audit.Entry)
      await ctx.cloud.deleteInStore(viaAudit, ceph.systemAdmin);
      const entry = JSON.stringify(minioAuditEntry('DeleteBucket', viaAudit, 204));
      const post = (auth: string | undefined) =>
        fetch(`http://${address}/events/minio/minio-1`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
          body: entry,
        });
      const forged = await post('Bearer wrong');
      const unsigned = await post(undefined);
      const good = await post(TOKEN);
      await until('the task', () => sns.published.length >= 1, 15_000);

      // Assert
      expect([forged.status, unsigned.status, good.status]).toEqual([401, 401, 200]);
      expect(kinds()).toEqual(['task bucket-missing-in-store']);
      expect(sns.published[0]?.message).toContain(viaAudit);
      expect(sns.published[0]?.message).toMatch(
        /Cause: deleted in the store at \d\d:\d\d:\d\d UTC by access key minioadmin from 10\.0\.0\.5, MinIO Console \(minio-audit\)\./,
      );

      // Act: deleted again behind CloudStack's back; MinIO's ListenNotification says so
      await ctx.cloud.deleteInStore(viaListen, ceph.systemAdmin);
      minio.notifyBucket('s3:BucketRemoved:*', viaListen);
      await until('the second task', () => sns.published.length >= 2, 15_000);
      await settle();

      // Assert
      expect(kinds()).toEqual(['task bucket-missing-in-store', 'task bucket-missing-in-store']);
      expect(sns.published[1]?.message).toContain(viaListen);
      const metrics = await (await fetch(`http://${address}/metrics`)).text();
      expect(metrics).toMatch(/csdrift_events_dropped_total\{source="minio-audit",reason="signature"\} 2/);
      expect(JSON.stringify(lines)).not.toContain('minio-audit-token-1');

      // Act: MinIO restarts (the stream drops); the watcher listens again, and hears a new bucket
      minio.dropListeners();
      await until('listening again', () => minio.listeners > 0, 15_000);
      const unknown = bucketName('unknown');
      await ctx.cloud.createInStore(unknown, ceph.systemAdmin);
      minio.notifyBucket('s3:BucketCreated:*', unknown);
      await until('the third task', () => sns.published.length >= 3, 15_000);

      // Assert
      expect(kinds()[2]).toBe('task bucket-unmanaged-in-store');
      expect(sns.published[2]?.message).toContain(unknown);
      expect(lines.some((l) => /minio-listen minio-1: .*listening again in/.test(l))).toBe(true);
    } finally {
      await watcher?.stop();
      watcher = undefined;
      await minio.stop();
    }
  });
});

/** An audit entry as MinIO's audit webhook posts it (madmin-go logger/audit/entry.go; values illustrative). */
function minioAuditEntry(name: string, bucket: string, statusCode: number) {
  return {
    version: '1',
    deploymentid: 'b7d3e8a2-0000-4000-8000-000000000001',
    time: new Date().toISOString(),
    trigger: 'incoming',
    api: { name, bucket, object: '', status: 'No Content', statusCode, rx: 0, tx: 0, timeToResponse: '2ms' },
    remotehost: '10.0.0.5',
    requestID: '1823A0B1C2D3E4F5',
    userAgent: 'MinIO Console',
    requestPath: `/${bucket}`,
    requestHost: 'minio.example:9000',
    requestHeader: { Authorization: 'AWS4-HMAC-SHA256 Credential=minioadmin/… (never logged)' },
    responseHeader: {},
    accessKey: 'minioadmin',
  };
}
