import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretsStandIn, SlackReceiver, SnsStandIn } from '../support/aws-standins.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks';
const WEBHOOK_SECRET_PATH = '/services/T0000/B0000/s3cr3tW3bh00kT0k3n';

describe('notifications from csdrift audit', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let slack: SlackReceiver;
  let secrets: SecretsStandIn;
  let env: Record<string, string>;

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    slack = await new SlackReceiver().start();
    secrets = await new SecretsStandIn({ 'csdrift/slack': `${slack.url}${WEBHOOK_SECRET_PATH}` }).start();
    env = {
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
      AWS_SECRET_ACCESS_KEY: 'standin-secret',
      AWS_REGION: 'us-east-1',
    };
  });
  afterEach(async () => {
    await Promise.all([sns.stop(), slack.stop(), secrets.stop()]);
  });

  async function plantTwoDrifts() {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('photos');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const rogue = bucketName('rogue');
    await ctx.cloud.createInStore(rogue, alice.keys);
    return { gone, rogue, alice };
  }

  const audit = (...extra: string[]) =>
    csdrift(
      [
        'audit',
        '--db',
        dbUrlText(ctx.cloud.database.db),
        '--out',
        ctx.dir,
        '--sns-topic',
        TOPIC,
        '--slack-webhook-secret',
        'csdrift/slack',
        ...extra,
      ],
      env,
    );

  it('sends one task per new finding and a digest, then only a digest, then one resolved', async () => {
    // Prepare
    const { gone, rogue, alice } = await plantTwoDrifts();

    // Act
    const first = await audit();
    const afterFirst = sns.published.splice(0);
    const second = await audit();
    const afterSecond = sns.published.splice(0);
    await ctx.cloud.createInStore(gone, alice.keys); // fixed
    const third = await audit();
    const afterThird = sns.published.splice(0);

    // Assert
    expect([first.code, second.code, third.code]).toEqual([1, 1, 1]);
    expect(afterFirst.map((m) => m.attributes.kind)).toEqual(['task', 'task', 'digest']);
    expect(
      afterFirst
        .map((m) => m.subject)
        .slice(0, 2)
        .sort(),
    ).toEqual(
      [
        `[high] bucket-missing-in-store: ${gone} on ceph-1`,
        `[medium] bucket-unmanaged-in-store: ${rogue} on ceph-1`,
      ].sort(),
    );
    expect(afterFirst[0]?.attributes).toMatchObject({ store: 'ceph-1', kind: 'task' });
    expect(afterFirst[0]?.message).toMatch(/Report: +.*report\.html/);
    expect(afterSecond.map((m) => m.attributes.kind)).toEqual(['digest']);
    expect(afterThird.map((m) => [m.attributes.kind, m.subject])).toEqual([
      ['resolved', `[resolved] bucket-missing-in-store: ${gone} on ceph-1`],
      ['digest', expect.stringMatching(/^\[csdrift\] drift: 0 new, 1 open, 1 resolved$/)],
    ]);
    expect(first.stderr).toMatch(/notified: sns 3 message\(s\), slack 3 message\(s\)/);

    // Slack got each task and a readable digest
    const headers = slack.posts.map((p) => p.text);
    expect(headers.filter((h) => h.startsWith('[csdrift]'))).toHaveLength(3);
    const digest = slack.posts.find((p) => p.text.startsWith('[csdrift] drift: 2 new'));
    expect(digest?.blocks[1]?.text?.text).toMatch(/csdrift: drift\. 2 finding\(s\): 2 new/);

    // the webhook URL is a secret: nowhere in what csdrift printed or wrote
    const files = (await readdir(ctx.dir, { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    const written = await Promise.all(files.map((f) => readFile(join(f.parentPath, f.name), 'utf8')));
    for (const text of [first, second, third].flatMap((r) => [r.stdout, r.stderr]).concat(written)) {
      expect(text).not.toContain('s3cr3tW3bh00kT0k3n');
    }
  });

  it('gives FIFO messages a group per store and a deduplication id per finding and run', async () => {
    await plantTwoDrifts();
    const run = await csdrift(
      [
        'audit',
        '--quiet',
        '--db',
        dbUrlText(ctx.cloud.database.db),
        '--out',
        ctx.dir,
        '--sns-topic',
        `${TOPIC}.fifo`,
      ],
      env,
    );
    expect(run.code).toBe(1);
    const store = sns.published[0]?.groupId;
    expect(sns.published.filter((m) => m.attributes.kind === 'task').every((m) => m.groupId === store)).toBe(
      true,
    );
    expect(new Set(sns.published.map((m) => m.dedupId)).size).toBe(sns.published.length);
  });

  it('waits as long as Slack asks on 429, and --no-notify sends nothing', async () => {
    await plantTwoDrifts();
    slack.throttleFirst = 1;
    const quiet = await audit('--no-notify', '--quiet');
    expect([sns.published.length, slack.attempts.length]).toEqual([0, 0]);
    expect(quiet.code).toBe(1);

    const run = await audit('--quiet');

    expect(run.stderr).toBe('');
    const [throttled = 0, retried = 0] = slack.attempts;
    expect(retried - throttled).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(slack.posts.length).toBe(3);
  });
});
