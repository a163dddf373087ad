import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../functions/cli/load-config.js';

describe('secrets from files', () => {
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
