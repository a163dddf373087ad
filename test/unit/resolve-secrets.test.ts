import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../functions/cli/load-config.js';
import type { SecretReader } from '../../functions/secrets/resolve-secrets.js';
import { resolveSecrets, secretIdsIn } from '../../functions/secrets/resolve-secrets.js';

describe('the secrets step: files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-secrets-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function secret(name: string, value: string, mode = 0o600): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `${value}\n`);
    await chmod(path, mode);
    return path;
  }

  async function config(body: object): Promise<string> {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify(body));
    return path;
  }

  it('reads every secret the config takes from a file, dropping the trailing newline', async () => {
    const warnings: string[] = [];
    const loaded = await loadConfigFile(
      await config({
        db: { urlFile: await secret('db-url', 'mysql://csdrift:pw@db:3306/cloud') },
        stores: {
          'minio-1': { accessKeyFile: await secret('ak', 'AKID'), secretKeyFile: await secret('sk', 'SK') },
        },
        notify: { slackWebhookUrlFile: await secret('slack', 'https://hooks.slack.com/services/T/B/x') },
        cloudstack: {
          apiUrl: 'https://cloudstack.internal/client/api',
          apiKeyFile: await secret('api', 'API'),
          secretKeyFile: await secret('api-secret', 'APISECRET'),
        },
      }),
      (line) => warnings.push(line),
    );
    expect(loaded.db).toEqual({ url: 'mysql://csdrift:pw@db:3306/cloud' });
    expect(loaded.stores['minio-1']).toEqual({ accessKey: 'AKID', secretKey: 'SK' });
    expect(loaded.notify?.slackWebhookUrl).toBe('https://hooks.slack.com/services/T/B/x');
    expect(loaded.cloudstack).toMatchObject({ apiKey: 'API', secretKey: 'APISECRET' });
    expect(warnings).toEqual([]);
  });

  it("reads the watcher's secrets from files: the broker URL, the webhook secret, MinIO's audit token", async () => {
    const loaded = await loadConfigFile(
      await config({
        watch: {
          cloudstack: {
            amqp: { urlFile: await secret('amqp', 'amqp://csdrift:pw@mq:5672/') },
            webhookSecretFile: await secret('hook', 'HOOKSECRET'),
          },
          minio: { authTokenFile: await secret('minio', 'Bearer MINIOTOKEN'), listen: true },
        },
      }),
      () => {},
    );
    expect(loaded.watch?.cloudstack?.amqp?.url).toBe('amqp://csdrift:pw@mq:5672/');
    expect(loaded.watch?.cloudstack?.webhookSecret).toBe('HOOKSECRET');
    expect(loaded.watch?.minio).toEqual({ authToken: 'Bearer MINIOTOKEN', listen: true });
  });

  it('warns of a file others can read, naming it and never its content', async () => {
    const warnings: string[] = [];
    const path = await secret('sk', 'TOPSECRETVALUE', 0o644);
    await loadConfigFile(
      await config({ stores: { 'minio-1': { accessKey: 'AKID', secretKeyFile: path } } }),
      (line) => warnings.push(line),
    );
    expect(warnings).toEqual([
      expect.stringContaining(
        `stores.minio-1.secretKeyFile: ${path} can be read by others (mode 644); chmod 600 it`,
      ),
    ]);
    expect(warnings.join('')).not.toContain('TOPSECRETVALUE');
  });

  it.each([
    [{ db: { urlFile: 'no-such-file' } }, /db\.urlFile: no-such-file: cannot read it \(ENOENT\)/],
    [{ db: { url: 'mysql://a@b/c', urlFile: 'x' } }, /db: give url or urlFile, not both/],
    [{ stores: { s: { secretKeyFile: 7 } } }, /stores\.s\.secretKeyFile: expected a file path/],
  ])('refuses %j with one line naming it', async (body, message) => {
    await expect(loadConfigFile(await config(body))).rejects.toThrow(message);
  });
});

describe('the secrets step: Secrets Manager references', () => {
  // What Secrets Manager would answer (its strings), or what middy hands over (JSON already parsed).
  const secrets: Record<string, unknown> = {
    'csdrift/db': JSON.stringify({
      host: 'db.internal',
      port: '3307',
      username: 'csdrift',
      password: 'p@ss/w:rd',
    }),
    'csdrift/db-url': 'mysql://csdrift:pw@db:3306/cloud',
    'csdrift/store': { accessKey: 'AKID', secretKey: 'SK', endpoint: 'https://minio-2.internal:9000' },
    'csdrift/api': JSON.stringify({ apiKey: 'API', secretKey: 'APISECRET' }),
    'csdrift/slack': JSON.stringify({ url: 'https://hooks.slack.com/services/T/B/x' }),
    'csdrift/hook': 'HOOKSECRET',
    'csdrift/empty': '',
  };
  const asked: string[] = [];
  const reader: SecretReader = {
    secret(id) {
      asked.push(id);
      return Promise.resolve(secrets[id]);
    },
  };
  const resolve = (raw: object) => resolveSecrets(raw, { source: 'config.yaml', warn: () => {}, reader });

  it('replaces every reference with what its secret holds, in one step, and names them all for a function', async () => {
    const raw = {
      db: { secretId: 'csdrift/db' },
      stores: { 'minio-1': { secretId: 'csdrift/store' }, 'ceph-1': { skip: true } },
      cloudstack: { apiUrl: 'https://cs.example/client/api', secretId: 'csdrift/api' },
      notify: { slackWebhookSecretId: 'csdrift/slack' },
      watch: { cloudstack: { webhookSecretId: 'csdrift/hook' } },
    };
    expect(secretIdsIn(raw)).toEqual([
      'csdrift/db',
      'csdrift/store',
      'csdrift/api',
      'csdrift/slack',
      'csdrift/hook',
    ]);
    expect(await resolve(raw)).toEqual({
      db: { url: 'mysql://csdrift:p%40ss%2Fw%3Ard@db.internal:3307/cloud' },
      stores: {
        'minio-1': { accessKey: 'AKID', secretKey: 'SK', endpoint: 'https://minio-2.internal:9000' },
        'ceph-1': { skip: true },
      },
      cloudstack: { apiUrl: 'https://cs.example/client/api', apiKey: 'API', secretKey: 'APISECRET' },
      notify: { slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x' },
      watch: { cloudstack: { webhookSecret: 'HOOKSECRET' } },
    });
    expect(raw.db).toEqual({ secretId: 'csdrift/db' }); // the input is left as it was
    expect(await resolve({ db: { secretId: 'csdrift/db-url' } })).toEqual({
      db: { url: 'mysql://csdrift:pw@db:3306/cloud' },
    });
  });

  it.each([
    [
      { db: { secretId: 'csdrift/hook' } },
      'config.yaml: db.secretId csdrift/hook: expected the secret to hold a mysql:// URL, or JSON {host, port, username, password, dbname}',
    ],
    [
      { stores: { s: { secretId: 'csdrift/api' } } },
      'config.yaml: stores.s.secretId csdrift/api: expected the secret to hold JSON {"accessKey": "…", "secretKey": "…"}',
    ],
    [
      { watch: { cloudstack: { webhookSecretId: 'csdrift/empty' } } },
      'config.yaml: watch.cloudstack.webhookSecretId csdrift/empty: expected the secret to hold the signing secret as a plain string',
    ],
    [
      { notify: { slackWebhookSecretId: 'csdrift/hook' } },
      'config.yaml: notify.slackWebhookSecretId csdrift/hook: expected the secret to hold a webhook URL',
    ],
    [
      { cloudstack: { apiUrl: 'https://x/', apiKey: 'A', secretId: 'csdrift/api' } },
      'config.yaml: cloudstack: give apiKey and secretKey or secretId, not both',
    ],
    [{ db: { secretId: 7 } }, "config.yaml: db.secretId: expected a secret's name or ARN"],
  ])('refuses %j with one line naming the reference, never a secret', async (raw, message) => {
    const err = await resolve(raw).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toMatch(/HOOKSECRET|APISECRET|p@ss/);
  });

  it('asks no reader when the config names no secret', async () => {
    asked.length = 0;
    await resolveSecrets(
      { stores: { s: { accessKey: 'A', secretKey: 'B' } } },
      { source: 'c', warn: () => {} },
    );
    expect(asked).toEqual([]);
  });
});
