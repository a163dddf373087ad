// `csdrift demo`: a throwaway CloudStack database and an in-process S3 store with planted drift,
// audited by the real engine, then cleaned up. Only the report is left behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { auditAndPublish } from '../run.js';
import { parseDbUrl } from '../cloudstack/db-url.js';
import { parseAuditConfig } from '../core/config.js';
import { DatabaseUnreachableError } from '../core/errors.js';
import { RULE_IDS } from '../core/model.js';
import { RULES } from '../core/rules/index.js';
import { createThrowawayDatabase } from '../demo/throwaway-db.js';
import { plantSampleCloud } from '../demo/sample-cloud.js';
import type { Io } from './audit-command.js';
import { formatSummary } from './summary.js';
import { FolderSink } from '../reports/folder-sink.js';
import type { ReportFormat } from '../reports/formats.js';

const DEMO_FORMATS: ReportFormat[] = ['json', 'html', 'csv', 'md'];

const DEFAULT_SERVER = 'mysql://root@127.0.0.1:3306/mysql';

export async function demoCommand(io: Io): Promise<number> {
  const server = parseDbUrl(process.env.CSDRIFT_DEMO_DB_URL ?? DEFAULT_SERVER);
  const storeDir = await mkdtemp(join(tmpdir(), 'csdrift-demo-store-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: storeDir,
    resetOnClose: true,
    vhostBuckets: false,
  });
  const { port } = await s3rver.run();
  let database;
  try {
    database = await createThrowawayDatabase(server, '4.21', 'csdrift_demo').catch(
      (err: { code?: string; message?: string }) => {
        throw new DatabaseUnreachableError(
          server.host,
          server.port,
          `${err.code ?? err.message} (set CSDRIFT_DEMO_DB_URL=mysql://USER:PASSWORD@HOST:PORT to use another server)`,
        );
      },
    );
    io.stderr(
      `demo: database ${database.db.database} on ${server.host}:${server.port}, S3 store on 127.0.0.1:${port}`,
    );
    const cloud = await plantSampleCloud(database, `http://127.0.0.1:${port}`);
    const sink = new FolderSink(await mkdtemp(join(tmpdir(), 'csdrift-demo-')));
    const outcome = await auditAndPublish({
      db: database.db,
      config: parseAuditConfig({}),
      stores: [],
      // The in-process store answers plain bucket calls only (no policy, quota or admin API): the
      // attribute rules need a real store, so the demo runs every other rule.
      rules: RULE_IDS.filter((id) => !RULES[id].attribute),
      trigger: 'cli',
      sink,
      formats: DEMO_FORMATS,
      notifiers: [],
    });
    await io.stdout(formatSummary(outcome.report, outcome.reportUri));
    const seen = outcome.report.findings.some(
      (f) => f.rule === 'bucket-missing-in-store' && f.bucket === cloud.seedCase,
    );
    await io.stdout(
      seen
        ? `The seed case: bucket ${cloud.seedCase} was deleted in the store behind CloudStack's back and is reported as bucket-missing-in-store.\n`
        : `The seed case ${cloud.seedCase} was NOT found: something is wrong.\n`,
    );
    return seen ? 0 : 1;
  } finally {
    await database?.drop().catch(() => {});
    await s3rver.close();
    await rm(storeDir, { recursive: true, force: true });
  }
}
