// Secrets read from Secrets Manager once at start, outside Lambda: the Slack webhook URL (the URL,
// or JSON with `url`) and a webhook's signing secret (a plain string).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidInputError } from '../core/errors.js';

/** The secret's string (undefined for a binary one); one line naming `where` when it cannot be read. */
async function secretString(
  secretId: string,
  where: string,
  client: SecretsManagerClient,
): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (err) {
    throw new InvalidInputError(`${where} ${secretId}: cannot read it (${(err as Error).name})`);
  }
}

/** A secret that holds one plain string (a webhook's signing secret). */
export async function plainSecret(
  secretId: string,
  where: string,
  client = new SecretsManagerClient({}),
): Promise<string> {
  const value = await secretString(secretId, where, client);
  if (!value) throw new InvalidInputError(`${where} ${secretId}: the secret holds no string`);
  return value;
}

export async function slackWebhookFromSecret(
  secretId: string,
  client = new SecretsManagerClient({}),
): Promise<string> {
  const value = await secretString(secretId, '--slack-webhook-secret', client);
  const url = value?.trim().startsWith('{') ? (JSON.parse(value) as { url?: string }).url : value?.trim();
  if (!url || !/^https?:\/\//.test(url)) {
    throw new InvalidInputError(
      `--slack-webhook-secret ${secretId}: the secret holds no webhook URL (a URL, or JSON with "url")`,
    );
  }
  return url;
}
