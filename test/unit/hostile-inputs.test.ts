// The smaller hostile inputs, one test each: secrets never echoed, paths never escaping, one line each.
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../functions/cli/load-config.js';
import { parseDbUrl } from '../../functions/cloudstack/db-url.js';
import { emptyLedger, parseLedger } from '../../functions/core/ledger.js';
import { byName } from '../../functions/core/model.js';
import { shellQuote } from '../../functions/core/shell.js';
import { SlackNotifier } from '../../functions/notify/slack.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { openStorage } from '../../functions/state/open-storage.js';
import { LEDGER_KEY, readLedger } from '../../functions/state/ledger-store.js';
import { S3Storage, parseS3Uri } from '../../functions/state/s3-storage.js';
import { endpointProblem, safeEndpoint } from '../../functions/core/endpoint.js';
import { redact } from '../../functions/common/redact.js';
import type { Notification } from '../../functions/core/notifications.js';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

describe('secrets', () => {
  it.each([
    ['c.yaml', `stores:\n  minio-1:\n    secretKey: *${SECRET}\n`],
    ['c.yaml', `stores:\n  minio-1: { secretKey: |${SECRET}\n`],
    ['c.yaml', `stores:\n  minio-1:\n    secretKey: "${SECRET}\n`],
    ['c.json', `{"stores": {"minio-1": {"secretKey": ${SECRET}}}}`],
    ['c.json', `{\n  "stores": {\n    "minio-1": {\n      "secretKey": "${SECRET}\n`],
  ])('a parse error in %s names the file and the line, never the value', (file, text) => {
    let message = '';
    try {
      parseConfigText(text, file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(new RegExp(`^${file.replace('.', '\\.')}: not valid (YAML|JSON)`));
    expect(message).not.toContain(SECRET.slice(0, 8));
    expect(message).not.toContain('\n');
  });

  it('userinfo in a URL is dropped before it is shown; text that is no URL keeps nothing before an @', () => {
    expect(safeEndpoint('http://user:pass@rgw.internal:8080')).toBe('http://rgw.internal:8080');
    expect(safeEndpoint('https://k:s@minio/')).toBe('https://minio/');
    expect(safeEndpoint('user:pass@rgw.internal')).not.toContain('pass');
    expect(endpointProblem('http://rgw.internal:8080')).toBeNull();
  });

  it('redacts before it cuts, so no prefix of a secret survives the cut', () => {
    const text = `${'x'.repeat(390)}${SECRET} and more`;
    const out = redact(text, [SECRET], 400);
    expect(out).not.toContain(SECRET.slice(0, 6));
    expect(out.length).toBeLessThanOrEqual(400);
  });

  it("a Slack error answer never echoes the webhook's path", async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX';
    const original = globalThis.fetch;
    globalThis.fetch = (async () =>
      new Response(`invalid_token for ${url} (/services/T000/B000/XXXXsecretXXXX)`, {
        status: 403,
      })) as typeof fetch;
    try {
      const slack = new SlackNotifier(url);
      const digest: Notification = {
        kind: 'digest',
        severity: 'info',
        title: 'd',
        sections: [{ kind: 'lines', lines: ['b'] }],
        reportUri: '',
        data: { kind: 'digest' },
        attributes: { rule: 'r', severity: 'info', store: 's', kind: 'digest' },
        groupId: 'g',
        dedupId: 'd',
        findingIds: [],
      };
      const { failures } = await slack.deliver([digest]);
      expect(failures.join(' ')).toMatch(/HTTP 403/);
      expect(failures.join(' ')).not.toContain('XXXXsecretXXXX');
      expect(failures.join(' ')).not.toContain('/services/');
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('paths and flags', () => {
  it.each([
    ['s3://../x', /is not an S3 bucket name/],
    ['s3://bad bucket/x', /is not an S3 bucket name/],
    ['s3://UPPER/x', /is not an S3 bucket name/],
    ['s3://reports/a/../b', /may not hold empty, "\." or "\.\." segments/],
    ['s3://192.168.1.1/x', /is not an S3 bucket name/],
  ])('--out %s is refused, naming the rule', (uri, why) => {
    expect(() => parseS3Uri(uri)).toThrow(why);
  });

  it('--out s3:// accepts real bucket names and prefixes', () => {
    expect(parseS3Uri('s3://drift-reports/nightly/')).toEqual({ bucket: 'drift-reports', prefix: 'nightly' });
  });

  it('--out with no AWS region says so in one line', async () => {
    const saved = { ...process.env };
    process.env = Object.fromEntries(
      Object.entries(saved).filter(([k]) => !['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE'].includes(k)),
    );
    process.env.AWS_CONFIG_FILE = join(tmpdir(), 'no-such-aws-config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), 'no-such-aws-credentials');
    try {
      await expect(readLedger(new S3Storage('s3://drift-reports/x'))).rejects.toThrow(
        '--out s3://drift-reports: no AWS region is configured: set AWS_REGION',
      );
    } finally {
      process.env = saved;
    }
  });

  it("--out '' is refused rather than writing into the working folder", () => {
    expect(() => openStorage('')).toThrow(/--out: empty/);
  });

  it('--db with a bare % names the part, not its text', () => {
    expect(() => parseDbUrl(`mysql://csdrift:50%off${SECRET}@db:3306/cloud`)).toThrow(
      '--db: the password holds a % that is not %XX; write a literal % as %25',
    );
  });

  it('a corrupt ledger is one line', () => {
    expect(() => parseLedger('{\n  "schemaVersion": 1,\n  "entries": [\n', 'ledger.json')).toThrow(
      /^[^\n]+$/,
    );
  });

  it('a bucket named __proto__ is a name like any other', () => {
    const out = byName<{ a: number }>();
    out['__proto__'] = { a: 1 };
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as { a?: number }).a).toBeUndefined();
  });

  it('a right-to-left override in a name is written as an escape in a command', () => {
    expect(shellQuote('photos\u202Egpj.exe')).toBe("$'photos\\u202egpj.exe'");
  });
});

describe('files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-hostile-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('--out inside a pseudo-filesystem that refuses folders fails at once, naming the folder', async () => {
    const storage = new FolderStorage('/proc/csdrift-cannot-be-made');
    await expect(storage.put('runs/x/report.json', '{}')).rejects.toThrow(
      '--out: cannot make the folder /proc/csdrift-cannot-be-made (ENOENT)',
    );
  });

  it('a config of more than 4 MiB is refused before it is parsed', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, `{"stores": {}, "x": "${'a'.repeat(5 * 1024 * 1024)}"}`);
    await expect(loadConfigFile(file)).rejects.toThrow(/larger than 4 MiB; not a config file/);
  });

  it('temporary files a killed run left behind are swept once they are an hour old', async () => {
    const storage = new FolderStorage(dir);
    await storage.putIf(LEDGER_KEY, JSON.stringify(emptyLedger()), null);
    const old = join(dir, 'state', 'ledger.json.dead1234.tmp');
    const fresh = join(dir, 'state', 'ledger.json.live5678.tmp');
    await writeFile(old, 'half');
    await writeFile(fresh, 'half');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(old, twoHoursAgo, twoHoursAgo);

    await storage.putIf(
      LEDGER_KEY,
      JSON.stringify({ ...emptyLedger(), lastRunId: 'r2' }),
      (await readLedger(storage)).version,
    );

    expect((await readdir(join(dir, 'state'))).filter((f) => f.endsWith('.tmp'))).toEqual([
      'ledger.json.live5678.tmp',
    ]);
  });
});
