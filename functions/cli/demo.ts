// `csdrift demo`: a throwaway CloudStack database and an in-process S3 store with planted drift,
// audited by the real engine over a few replayed nights, then cleaned up. Only the reports (and the
// ledger and history they came from) are left behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { auditAndPublish } from '../run.js';
import { parseDbUrl } from '../cloudstack/db-url.js';
import { parseAuditConfig } from '../core/config.js';
import { CsdriftError, DatabaseUnreachableError } from '../core/errors.js';
import { RULE_IDS } from '../core/rules/index.js';
import { RULES } from '../core/rules/index.js';
import { createThrowawayDatabase } from '../demo/throwaway-db.js';
import { DEMO_NIGHTS } from '../demo/replayed-nights.js';
import { demoS3Client, plantSampleCloud } from '../demo/sample-cloud.js';
import { DemoUsageShim } from '../demo/usage-shim.js';
import { atStake } from '../core/playbooks.js';
import type { Io } from './audit-command.js';
import { formatSummary } from './summary.js';
import { FolderStorage } from '../state/folder-storage.js';
import type { ReportFormat } from '../reports/formats.js';

const DEMO_FORMATS: ReportFormat[] = ['json', 'html', 'csv', 'md'];

const DEFAULT_SERVER = 'mysql://root@127.0.0.1:3306/mysql';
const DAY_MS = 24 * 3_600_000;

/**
 * What the demo made, undone in reverse order exactly once: at its end, on SIGINT or SIGTERM, or when
 * its output is closed (`csdrift demo | head`). Nothing of it is left but, after a finished run, the
 * reports.
 */
class Cleanup {
  private readonly undo: (() => Promise<unknown> | unknown)[] = [];
  private running: Promise<void> | undefined;

  add(step: () => Promise<unknown> | unknown): void {
    this.undo.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.undo.reverse()) await Promise.resolve(step()).catch(() => {});
    })();
    return this.running;
  }
}

export async function demoCommand(io: Io): Promise<number> {
  const cleanup = new Cleanup();
  const onSignal = (signal: NodeJS.Signals) => {
    io.stderr(`demo: ${signal}: removing its database and store before exiting`);
    void cleanup.run().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  cleanup.add(() => process.off('SIGINT', onSignal).off('SIGTERM', onSignal));
  try {
    return await runDemo(io, cleanup);
  } finally {
    await cleanup.run();
  }
}

async function runDemo(io: Io, cleanup: Cleanup): Promise<number> {
  const server = parseDbUrl(process.env.CSDRIFT_DEMO_DB_URL ?? DEFAULT_SERVER);
  const storeDir = await mkdtemp(join(tmpdir(), 'csdrift-demo-store-'));
  cleanup.add(() => rm(storeDir, { recursive: true, force: true }));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: storeDir,
    resetOnClose: true,
    vhostBuckets: false,
  });
  const { port } = await s3rver.run();
  cleanup.add(() => s3rver.close());
  const s3 = demoS3Client(`http://127.0.0.1:${port}`);
  cleanup.add(() => s3.destroy());
  const store = await new DemoUsageShim(port, s3).start();
  cleanup.add(() => store.stop());
  const database = await createThrowawayDatabase(server, '4.21', 'csdrift_demo').catch(
    (err: { code?: string; message?: string }) => {
      throw new DatabaseUnreachableError(
        server.host,
        server.port,
        `${err.code ?? err.message} (set CSDRIFT_DEMO_DB_URL=mysql://USER:PASSWORD@HOST:PORT to use another server)`,
      );
    },
  );
  cleanup.add(() => database.drop());
  io.stderr(
    `demo: database ${database.db.database} on ${server.host}:${server.port}, S3 store on ${store.endpoint}`,
  );
  const cloud = await plantSampleCloud(database, store.endpoint);
  const reports = await mkdtemp(join(tmpdir(), 'csdrift-demo-'));
  // The reports stay after a finished run (that is what the demo is for); an interrupted one leaves nothing.
  let finished = false;
  cleanup.add(() => (finished ? undefined : rm(reports, { recursive: true, force: true })));
  const storage = new FolderStorage(reports);
  // The in-process store answers plain bucket calls and MinIO's data usage only (no policy, quota or
  // user API): the attribute rules and the key rules are switched off in the config, so each night is
  // a full run.
  const config = parseAuditConfig({
    rules: Object.fromEntries(
      RULE_IDS.filter((id) => RULES[id].scan?.attributes?.length || RULES[id].scan?.principals).map((id) => [
        id,
        { enabled: false },
      ]),
    ),
    // A price puts money on the stake: what is billed for nothing next to what nobody pays for.
    pricing: { perGiBMonth: 0.02, currency: 'EUR' },
  });
  let outcome;
  for (const night of DEMO_NIGHTS) {
    await night.apply(s3);
    const offset = night.daysAgo * DAY_MS;
    outcome = await auditAndPublish({
      db: database.db,
      config,
      stores: [],
      rules: [],
      trigger: night.daysAgo ? 'schedule' : 'cli',
      now: () => new Date(Date.now() - offset),
      storage,
      formats: DEMO_FORMATS,
      notifiers: [],
    });
    if (night.daysAgo)
      await io.stdout(
        `night of ${outcome.report.finishedAt.slice(0, 10)}: ${night.story}. ${outcome.report.summary.findings} finding(s); ${atStake(outcome.report.summary) ?? 'nothing at stake'}\n`,
      );
  }
  if (!outcome) throw new CsdriftError('the demo has no nights to replay');
  await io.stdout(`tonight: ${DEMO_NIGHTS.at(-1)?.story}.\n`);
  await io.stdout(formatSummary(outcome.report, outcome.reportUri));
  const seen = outcome.report.findings.some(
    (f) => f.rule === 'bucket-missing-in-store' && f.bucket === cloud.seedCase,
  );
  await io.stdout(
    seen
      ? `The seed case: bucket ${cloud.seedCase} was deleted in the store behind CloudStack's back and is reported as bucket-missing-in-store.\n`
      : `The seed case ${cloud.seedCase} was NOT found: something is wrong.\n`,
  );
  finished = true;
  return seen ? 0 : 1;
}
