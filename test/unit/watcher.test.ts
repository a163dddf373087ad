// The watcher's own logic with fake sources and a fake audit, no services: the order sources start
// and stop in, acknowledgement only after the verdict, backpressure (pause above the high-water mark,
// resume below half), a storm planned into few audits, and the webhook spool replayed at start.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { ChangeSource, SourceContext } from '../../functions/sources/change-source.js';
import type { ChangeEvent } from '../../functions/sources/cloudstack-event.js';
import { MinioAuditSource } from '../../functions/sources/minio-audit-source.js';
import { toQueueMessage } from '../../functions/sources/queued-event.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { EventSpool, STORE_EVENTS_SUFFIX } from '../../functions/state/spool.js';
import type { RunOutcome } from '../../functions/run.js';
import { Watcher } from '../../functions/watch/watcher.js';
import { CloudStackWebhookSource } from '../../functions/sources/cloudstack-webhook-source.js';
import { postWebhook } from '../support/cloudstack-events.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/until.js';

/** A source that records what the watcher does to it and emits what the test says. */
class FakeSource implements ChangeSource {
  readonly kind = 'ops-log' as const;
  readonly description: string;
  ctx: SourceContext | undefined;
  paused = false;
  readonly acked: string[] = [];
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {
    this.description = `fake ${name}`;
  }
  async start(ctx: SourceContext) {
    this.ctx = ctx;
    this.log.push(`start ${this.name}`);
  }
  pause() {
    this.paused = true;
    this.log.push(`pause ${this.name}`);
  }
  resume() {
    this.paused = false;
    this.log.push(`resume ${this.name}`);
  }
  async stop() {
    this.log.push(`stop ${this.name} (acked ${this.acked.length})`);
  }
  emit(bucket: string) {
    const event: ChangeEvent = {
      source: 'ops-log',
      type: 'BUCKET.DELETE',
      status: 'Completed',
      at: new Date(),
      target: { kind: 'bucket', name: bucket, store: 'store-1' },
      failed: false,
    };
    this.ctx?.emit(event, () => this.acked.push(bucket));
  }
}

describe('the watcher, with fake sources and a fake audit', () => {
  let dir: string;
  const log: string[] = [];
  let watcher: Watcher | undefined;
  let release: () => void = () => {};
  let audits: { buckets: string[] }[] = [];
  let gate: Promise<void> = Promise.resolve();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-watcher-'));
    log.length = 0;
    audits = [];
    gate = Promise.resolve();
  });
  afterEach(async () => {
    release();
    await watcher?.stop();
    watcher = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function start(sources: ChangeSource[], watch: Record<string, unknown> = {}) {
    const config = parseAuditConfig({
      watch: { listen: '127.0.0.1:0', debounceSeconds: 0.02, concurrentAudits: 1, ...watch },
    });
    watcher = new Watcher({
      db: { host: '127.0.0.1', port: 1, user: 'x', password: '', database: 'cloud' },
      config,
      storage: new FolderStorage(dir),
      formats: ['json'],
      notifiers: [],
      stateDir: join(dir, 'watch-state'),
      log: (line) => log.push(line),
      sources,
      runAudit: async (scope) => {
        audits.push({ buckets: scope.buckets });
        await gate;
        return {
          report: { status: 'in_sync', runId: 'r', findings: [], resolved: [], coverage: [] },
          ledger: { schemaVersion: 1, updatedAt: '', lastRunId: 'r', entries: {} },
        } as unknown as RunOutcome;
      },
    });
    return watcher.start();
  }

  it('starts sources in order, stops them in reverse after pausing them all, and acknowledges only after the verdict', async () => {
    const a = new FakeSource('a', log);
    const b = new FakeSource('b', log);
    await start([a, b]);
    gate = new Promise((r) => (release = r));
    a.emit('x');
    await until('the audit', () => audits.length === 1);
    expect(a.acked).toEqual([]); // the verdict is not written yet
    const stopping = watcher?.stop();
    await new Promise((r) => setTimeout(r, 50));
    release();
    await stopping;
    watcher = undefined;
    expect(a.acked).toEqual(['x']);
    expect(log.filter((l) => /^(start|pause|stop) /.test(l))).toEqual([
      'start a',
      'start b',
      'pause b',
      'pause a',
      'stop b (acked 0)',
      'stop a (acked 1)',
    ]);
  });

  it('pauses every source above the high-water mark of unsettled events, and resumes below half of it', async () => {
    const a = new FakeSource('a', log);
    const b = new FakeSource('b', log);
    await start([a, b], { maxPendingEvents: 10 });
    gate = new Promise((r) => (release = r));
    for (let i = 0; i < 12; i++) a.emit(`bucket-${i}`);
    expect([a.paused, b.paused]).toEqual([true, true]);
    const health = await (await fetch(`http://${await addressOf()}/healthz`)).json();
    expect(health).toMatchObject({ eventsPending: 12, paused: true });
    release();
    await until('all acknowledged', () => a.acked.length === 12);
    expect([a.paused, b.paused]).toEqual([false, false]);
    expect(log.some((l) => /10 event\(s\) waiting for their audits: sources paused/.test(l))).toBe(true);
  });

  it('plans a storm of events for one bucket into one audit (50,001 events; bench/ times it)', async () => {
    const a = new FakeSource('a', log);
    await start([a]);
    gate = new Promise((r) => (release = r));
    for (let i = 0; i < 50_000; i++) a.emit('busy');
    a.emit('other');
    release();
    await until('acknowledged', () => a.acked.length === 50_001, 20_000);
    expect(audits.flatMap((x) => x.buckets).sort()).toEqual(['busy', 'other']);
  });

  it('hands over webhook deliveries an earlier watcher spooled, and removes them once audited', async () => {
    const spool = await spoolRemovedBucket('gone');
    await start([new MinioAuditSource('token', spool)]);
    await until('the spool is empty', async () => (await spool.pending()).length === 0, 10_000);
    expect(audits).toEqual([{ buckets: ['gone'] }]);
  });

  it('skips a spool entry that is not a file (a folder, a FIFO) with a line naming it, and replays the rest', async () => {
    const spool = await spoolRemovedBucket('gone');
    const folder = join(dir, 'watch-state', 'spool', `000000000000001-aaaaaaaaaaaa${STORE_EVENTS_SUFFIX}`);
    const fifo = join(dir, 'watch-state', 'spool', `000000000000002-bbbbbbbbbbbb${STORE_EVENTS_SUFFIX}`);
    await mkdir(folder);
    execFileSync('mkfifo', [fifo]); // 0.9.0: the start failed on EISDIR, or waited on the FIFO for ever
    await start([new MinioAuditSource('token', spool)]);
    await until('the good entry is audited', () => audits.length === 1, 10_000);
    expect(audits).toEqual([{ buckets: ['gone'] }]);
    expect(log).toContain(
      `minio-audit: spool: skipped ${folder}: not a regular file (a folder); move it away`,
    );
    expect(log).toContain(`minio-audit: spool: skipped ${fifo}: not a regular file (a FIFO); move it away`);
  });

  // A real full disk: a 256 KiB tmpfs (mounting needs root, as CI has; elsewhere skipped, saying so).
  const canMount = (() => {
    try {
      execFileSync('sh', [
        '-c',
        'd=$(mktemp -d) && mount -t tmpfs -o size=16k tmpfs "$d" && umount "$d"; rmdir "$d"',
      ]);
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!canMount)(
    'on a full disk a webhook is answered 500 with a line naming the file and why, and no partial file stays',
    async () => {
      const state = join(dir, 'watch-state');
      await mkdir(state);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', state]);
      try {
        await writeFile(join(state, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => {}); // fills it
        const spool = new EventSpool(new FolderStorage(state));
        await start([new CloudStackWebhookSource('secret', spool)]);
        const at = (log.find((l) => l.includes('listening on')) ?? '').replace(/.*listening on /, '');
        const uuid = 'aaaaaaaa-0000-4000-8000-000000000000';
        const sent = await postWebhook(
          `http://${at}/events/cloudstack`,
          { type: 'BUCKET.DELETE', bucketUuid: uuid },
          'secret',
        );
        expect(sent.status).toBe(500); // CloudStack sends it again later: nothing is lost
        expect(
          log.some((l) =>
            /^POST \/events\/cloudstack: answered 500: cannot write .*spool.*\.json: no space left on the device/.test(
              l,
            ),
          ),
        ).toBe(true);
        expect((await readdir(join(state, 'spool'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      } finally {
        await watcher?.stop();
        watcher = undefined;
        execFileSync('umount', [state]);
      }
    },
  );

  it('answers /healthz "starting" until every source has started', async () => {
    const port = await freePort();
    let letStart: () => void = () => {};
    const slow = new FakeSource('slow', log);
    slow.start = async (ctx) => {
      slow.ctx = ctx;
      await new Promise<void>((r) => (letStart = r));
    };
    const starting = start([slow], { listen: `127.0.0.1:${port}` });
    await until('the listener', () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => true,
        () => false,
      ),
    );
    const before = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string };
    letStart();
    await starting;
    const after = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string };
    expect([before.status, after.status]).toEqual(['starting', 'ok']);
  });

  /** A MinIO delivery of `s3:BucketRemoved` for `bucket`, as an earlier watcher left it in the spool. */
  async function spoolRemovedBucket(bucket: string): Promise<EventSpool> {
    const spool = new EventSpool(new FolderStorage(join(dir, 'watch-state')));
    const event: ChangeEvent = {
      source: 'minio-audit',
      type: 's3:BucketRemoved',
      status: 'Completed',
      at: new Date(),
      target: { kind: 'bucket', name: bucket, store: 'store-1' },
      failed: false,
    };
    await spool.save(`[${toQueueMessage(event)}]`, STORE_EVENTS_SUFFIX);
    return spool;
  }

  async function addressOf(): Promise<string> {
    const line = log.find((l) => l.includes('listening on')) ?? '';
    return line.replace(/.*listening on /, '');
  }
});
