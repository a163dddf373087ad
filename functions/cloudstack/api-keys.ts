// The CloudStack API keys remediation uses: from the config, or from a Secrets Manager secret
// ({"apiKey": "…", "secretKey": "…"}) so that no key needs to sit in a file or an environment.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AuditConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { CloudStackApiOptions } from './api-client.js';

export async function cloudStackApiOptions(
  config: AuditConfig['cloudstack'],
  client = new SecretsManagerClient({}),
): Promise<CloudStackApiOptions | undefined> {
  if (!config) return undefined;
  if (config.apiKey && config.secretKey)
    return { apiUrl: config.apiUrl, apiKey: config.apiKey, secretKey: config.secretKey };
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: config.secretId }))).SecretString;
  } catch (err) {
    throw new ConfigError(`cloudstack.secretId ${config.secretId}: cannot read it (${(err as Error).name})`);
  }
  let keys: { apiKey?: string; secretKey?: string };
  try {
    keys = JSON.parse(value ?? '') as { apiKey?: string; secretKey?: string };
  } catch {
    throw new ConfigError(
      `cloudstack.secretId ${config.secretId}: expected JSON {"apiKey": "…", "secretKey": "…"}`,
    );
  }
  if (!keys.apiKey || !keys.secretKey)
    throw new ConfigError(`cloudstack.secretId ${config.secretId}: apiKey and secretKey are required`);
  return { apiUrl: config.apiUrl, apiKey: keys.apiKey, secretKey: keys.secretKey };
}
