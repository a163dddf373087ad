// The tasks' buttons end to end: a Slack stand-in receives the tasks (with their buttons) and the
// posts to each click's response_url; clicks are signed as Slack signs them (api.slack.com,
// "Verifying requests from Slack") and sent to the watcher's POST /slack/actions; the fix runs
// against the live RGW, the real MariaDB and the CloudStack API stand-in.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { suppressionsCommand } from '../../functions/cli/suppressions-command.js';
import type { AuditConfig } from '../../functions/core/config.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { Ledger } from '../../functions/core/ledger.js';
import { SlackNotifier } from '../../functions/notify/slack.js';
import { auditAndPublish } from '../../functions/run.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import type { Watcher } from '../../functions/watch/watcher.js';
import { FAST_SCAN } from '../support/audit.js';
import { SlackReceiver, SnsStandIn } from '../support/aws-standins.js';
import { bucketName } from '../support/cloud.js';
import { CloudStackStandIn } from '../support/cloudstack-standin.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { until } from '../support/until.js';
import { testWatcher } from '../support/watcher.js';
import type { CsdriftButton } from '../support/slack-click.js';
import { postClick, signedClick } from '../support/slack-click.js';

const ceph = inject('ceph');
const API_KEYS = { apiKey: 'csdrift-admin-apikey', secretKey: 'csdrift-admin-secretkey-0000' };
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const APPROVER = 'U024BE7LH';
const STRANGER = 'U0STRANGER';

describe('fixes from Slack (POST /slack/actions)', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let slack: SlackReceiver;
  let cloudstack: CloudStackStandIn;
  let watcher: Watcher | undefined;
  let config: AuditConfig;
  let listening: string;
  const lines: string[] = [];

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    slack = await new SlackReceiver().start();
    cloudstack = await new CloudStackStandIn(API_KEYS, ctx.cloud.database.conn, ceph.conf).start();
    lines.length = 0;
    config = parseAuditConfig({
      scan: FAST_SCAN,
      cloudstack: { apiUrl: cloudstack.apiUrl, ...API_KEYS },
      remediation: { approvers: [APPROVER] },
      notify: { slack: { signingSecret: SIGNING_SECRET } },
      watch: { listen: '127.0.0.1:0', debounceSeconds: 0.3 },
    });
    watcher = testWatcher({ db: ctx.cloud.database.db, dir: ctx.dir, config, sns, lines });
    listening = await watcher.start();
  });
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') console.error(lines.join('\n'));
    await watcher?.stop();
    watcher = undefined;
    await cloudstack.stop();
    await slack.stop();
    await sns.stop();
  });

  /** The seed case and one audit that tells it to Slack, with its buttons. */
  async function seedCaseTold() {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const name = bucketName('gone');
    const row = await ctx.cloud.bucketDeletedInStore(name, store, alice);
    const outcome = await audit();
    const id = outcome.report.findings[0]?.id as string;
    return { name, row, id, alice };
  }
  const audit = () =>
    auditAndPublish({
      db: ctx.cloud.database.db,
      config,
      stores: [],
      rules: [],
      trigger: 'cli',
      storage: new FolderStorage(ctx.dir),
      formats: ['json'],
      notifiers: [new SlackNotifier(`${slack.url}/services/T0001/B0001/x`, undefined, { interactive: true })],
    });
  const click = (
    action: CsdriftButton,
    findingId: string,
    extra: Partial<Parameters<typeof signedClick>[0]> = {},
  ) => {
    const signed = signedClick({
      secret: SIGNING_SECRET,
      user: APPROVER,
      responseUrl: `${slack.url}/actions/T0001/1/r`,
      action,
      findingId,
      withMessage: true,
      ...extra,
    });
    return { send: () => postClick(listening, signed) };
  };
  const ledgerText = () => readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8');
  const removed = async (id: number) => {
    const [rows] = await ctx.cloud.database.conn.query<RowDataPacket[]>(
      'SELECT removed FROM bucket WHERE id = ?',
      [id],
    );
    return rows[0]?.removed !== null;
  };

  it('tasks carry Fix, Suppress 30 days and Not drift, each with the finding id', async () => {
    const { id } = await seedCaseTold();

    const task = slack.posts.find((p) => p.blocks.some((b) => b.type === 'actions')) as unknown as {
      blocks: { type: string; elements?: { action_id: string; value: string }[] }[];
    };

    const buttons = task.blocks.find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      ['csdrift-fix', id],
      ['csdrift-suppress-30d', id],
      ['csdrift-not-drift', id],
    ]);
  });

  it('a forged, stale or replayed signature gets 401 and changes nothing', async () => {
    const { id } = await seedCaseTold();
    const before = await ledgerText();

    const forged = await click('csdrift-not-drift', id, { secret: 'not-the-secret' }).send();
    const stale = await click('csdrift-not-drift', id, {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    }).send();
    const once = click('csdrift-suppress-30d', id);
    const first = await once.send();
    const replayed = await once.send();

    expect([forged.status, stale.status, first.status, replayed.status]).toEqual([401, 401, 200, 401]);
    await until('the outcome of the one valid click', () => slack.responses.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.responses).toHaveLength(1);
    const ledger = JSON.parse(await ledgerText()) as Ledger;
    expect(ledger.suppressions).toHaveLength(1); // the first click's alone
    expect(JSON.parse(before).suppressions).toBeUndefined();
    expect(cloudstack.calls).toEqual([]);
    expect(lines.join('\n')).not.toContain(SIGNING_SECRET);
  });

  it("a non-approver's click changes nothing and is told so, to them alone", async () => {
    const { id, row } = await seedCaseTold();
    const before = await ledgerText();

    const answer = await click('csdrift-fix', id, { user: STRANGER }).send();
    await until('the refusal', () => slack.responses.length === 1);

    expect(answer.status).toBe(200);
    expect(slack.responses[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(slack.responses[0]?.text)).toContain('is not one. Nothing was changed.');
    expect(await ledgerText()).toBe(before);
    expect(cloudstack.calls).toEqual([]);
    expect(await removed(row.id)).toBe(false);
  });

  it("an approver's Fix runs the guarded remediation at once and updates the message", async () => {
    const { id, row } = await seedCaseTold(); // seen once: the approval stands for the second sighting

    const answer = await click('csdrift-fix', id).send();
    await until('the outcome', () => slack.responses.length === 1, 30_000);

    expect(answer.status).toBe(200);
    expect(await removed(row.id)).toBe(true);
    const response = slack.responses[0] as {
      replace_original: boolean;
      text: string;
      blocks: { type: string }[];
    };
    expect(response.replace_original).toBe(true);
    expect(response.text).toMatch(/fixed by @ops-anna at \d\d:\d\d UTC: bucket removed from CloudStack/);
    expect(response.blocks.map((b) => b.type)).toEqual(['header', 'context']); // the buttons are gone
    const entry = (JSON.parse(await ledgerText()) as Ledger).entries[id];
    expect(entry).toMatchObject({
      status: 'resolved',
      actions: [{ by: `slack:${APPROVER}`, action: 'fix', outcome: 'done' }],
    });
    expect(await watcher?.metrics.text()).toContain(
      'csdrift_remediations_total{action="fix",outcome="done",via="slack"} 1',
    );
    // Told by the click's own message: the next audit neither tasks nor resolves it again.
    const next = await audit();
    expect(next.report.findings).toEqual([]);
    expect(next.report.resolved).toEqual([]);
  });

  it('a Fix on a finding a fresh audit no longer finds changes nothing and says so', async () => {
    const { id, row, name, alice } = await seedCaseTold();
    await ctx.cloud.createInStore(name, alice.keys); // someone put it back meanwhile

    await click('csdrift-fix', id).send();
    await until('the outcome', () => slack.responses.length === 1, 30_000);

    expect(String(slack.responses[0]?.text)).toContain('a fresh look no longer finds');
    expect(cloudstack.calls).toEqual([]);
    expect(await removed(row.id)).toBe(false);
    const entry = (JSON.parse(await ledgerText()) as Ledger).entries[id];
    expect(entry?.actions).toMatchObject([{ by: `slack:${APPROVER}`, action: 'fix', outcome: 'refused' }]);
  });

  it('Not drift suppresses from the next run on, until csdrift suppressions remove lifts it', async () => {
    const { id } = await seedCaseTold();

    await click('csdrift-not-drift', id).send();
    await until('the outcome', () => slack.responses.length === 1);
    const suppressed = await audit();
    const out: string[] = [];
    const io = { stdout: async (t: string) => void out.push(t), stderr: (l: string) => void out.push(l) };
    await suppressionsCommand('list', undefined, { out: ctx.dir }, io);
    const listed = out.join('');
    const suppressionId = /^([0-9a-f]{12}) /m.exec(listed)?.[1] as string;
    await suppressionsCommand('remove', suppressionId, { out: ctx.dir }, io);
    const again = await audit();

    expect(String(slack.responses[0]?.text)).toMatch(
      /marked not drift by @ops-anna .*until a person removes it/,
    );
    expect(suppressed.report.findings.map((f) => [f.id, f.status])).toEqual([[id, 'suppressed']]);
    expect(suppressed.report.findings[0]?.evidence.suppression).toMatchObject({ owner: `slack:${APPROVER}` });
    expect(listed).toMatch(
      /bucket-missing-in-store .* slack:U024BE7LH +until removed +not drift, said from Slack/,
    );
    expect(out.join('')).toContain(`removed ${suppressionId}`);
    expect(again.report.findings.map((f) => [f.id, f.status])).toEqual([[id, 'new']]);
  });
});
