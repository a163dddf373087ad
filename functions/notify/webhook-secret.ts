// The Slack webhook URL from Secrets Manager: the secret holds the URL, or JSON with `url`.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidInputError } from '../core/errors.js';

/** A secret that holds one plain string (a webhook's signing secret), read once at start. */
export async function plainSecret(
  secretId: string,
  where: string,
  client = new SecretsManagerClient({}),
): Promise<string> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (err) {
    throw new InvalidInputError(`${where} ${secretId}: cannot read it (${(err as Error).name})`);
  }
  if (!value) throw new InvalidInputError(`${where} ${secretId}: the secret holds no string`);
  return value;
}

export async function slackWebhookFromSecret(
  secretId: string,
  client = new SecretsManagerClient({}),
): Promise<string> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (err) {
    throw new InvalidInputError(
      `--slack-webhook-secret ${secretId}: cannot read it (${(err as Error).name})`,
    );
  }
  const url = value?.trim().startsWith('{') ? (JSON.parse(value) as { url?: string }).url : value?.trim();
  if (!url || !/^https?:\/\//.test(url)) {
    throw new InvalidInputError(
      `--slack-webhook-secret ${secretId}: the secret holds no webhook URL (a URL, or JSON with "url")`,
    );
  }
  return url;
}
