// Email without AWS: csdrift audit with notify.smtp against a real SMTP server on loopback, STARTTLS
// and a login; told once per finding, a digest per run, an auth failure reported without the password.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { SmtpReceiver } from '../support/smtp-receiver.js';

describe('email from csdrift audit (notify.smtp)', () => {
  const ctx = cephCloudPerTest('4.21');
  let smtp: SmtpReceiver;
  beforeEach(async () => {
    smtp = await new SmtpReceiver().start();
  });
  afterEach(() => smtp.stop());

  async function audit(password: string) {
    const passwordFile = join(ctx.dir, 'smtp-password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    const config = join(ctx.dir, 'config.yaml');
    await writeFile(
      config,
      JSON.stringify({
        notify: {
          smtp: {
            host: '127.0.0.1',
            port: smtp.port,
            tls: 'starttls',
            user: smtp.user,
            passwordFile,
            caFile: smtp.caFile,
            from: 'csdrift@cloud.example',
            to: ['storage-team@cloud.example'],
          },
        },
      }),
    );
    return csdrift([
      'audit',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      ctx.dir,
      '--config',
      config,
      '--metrics-file',
      join(ctx.dir, 'csdrift.prom'),
    ]);
  }

  it('delivers one task and one digest, then on an identical run only a digest', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('photos');
    await ctx.cloud.seed.bucket({ name: gone, store, account: alice }); // the seed case

    const first = await audit(smtp.password);

    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/notified: email 2 message\(s\)/);
    expect(smtp.mails.map((m) => m.subject)).toEqual([
      expect.stringMatching(new RegExp(`^\\[high\\] bucket-missing-in-store: ${gone} on ceph-1`)),
      expect.stringMatching(/^csdrift|drift/),
    ]);
    const [task, digest] = smtp.mails;
    expect(task?.to).toEqual(['storage-team@cloud.example']);
    expect(task?.text).toContain(`aws s3api create-bucket --bucket=${gone}`);
    expect(digest?.raw).toMatch(/Content-Type: text\/html/);
    expect(digest?.raw).toMatch(/Content-Type: text\/plain/);

    const second = await audit(smtp.password);

    expect(second.code).toBe(1);
    expect(smtp.mails).toHaveLength(3); // the digest only: the task was told once
    expect(smtp.mails[2]?.subject).not.toContain('bucket-missing-in-store');
  });

  it('reports a refused login without the password, and tries the messages again on the next run', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.seed.bucket({ name: bucketName('photos'), store, account: alice });

    const refused = await audit('not-the-password-0001');

    expect(refused.code).toBe(1); // the audit stands; only the telling failed
    expect(refused.stderr).toMatch(/notification not sent, to be tried again next run: email .* EAUTH/);
    expect(refused.stdout + refused.stderr).not.toContain('not-the-password-0001');
    expect(smtp.mails).toHaveLength(0);
    // Monitoring sees it: the exit status is the audit's, the metrics file says the telling failed.
    const metrics = () => readFile(join(ctx.dir, 'csdrift.prom'), 'utf8');
    expect(await metrics()).toMatch(/^csdrift_last_run_notifications_failed\{channel="email"\} 2$/m);

    const retried = await audit(smtp.password);

    expect(retried.stderr).toMatch(/notified: email 2 message\(s\)/);
    expect(await metrics()).toMatch(/^csdrift_last_run_notifications_failed\{channel="email"\} 0$/m);
    expect(smtp.mails.map((m) => m.subject)[0]).toMatch(/bucket-missing-in-store/);
  });
});
