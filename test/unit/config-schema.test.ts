// The config's JSON Schema (schema/config.schema.json, shipped for editors) is generated from the
// zod schema csdrift checks configs with (`npm run docs:schema`); this test holds the two together
// and checks that the schema accepts the README's example and the file and secret forms, and
// refuses what csdrift refuses.
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema } from '../../functions/cli/config-schema.js';

describe('the config JSON Schema', async () => {
  const shipped = JSON.parse(await readFile('schema/config.schema.json', 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const validate = ajv.compile(shipped);
  const accepts = (config: unknown) => (validate(config) ? [] : validate.errors);

  it('is what the zod schema generates (run npm run docs:schema after changing the config)', async () => {
    const generated = await format(JSON.stringify(configJsonSchema()), { parser: 'json' });
    expect(await readFile('schema/config.schema.json', 'utf8')).toBe(generated);
  });

  it("accepts the README's example config", async () => {
    const readme = await readFile('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### Config file'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(yaml.length).toBeGreaterThan(200);
    expect(accepts(parse(yaml))).toEqual([]);
  });

  it('accepts secrets as files and Secrets Manager references, as the secrets step does', () => {
    expect(
      accepts({
        db: { secretId: 'csdrift/db' },
        stores: { 'minio-1': { accessKeyFile: '/run/credentials/ak', secretKeyFile: '/run/credentials/sk' } },
        cloudstack: { apiUrl: 'https://cs.internal/client/api', secretId: 'csdrift/api' },
        notify: { slackWebhookSecretId: 'csdrift/slack' },
        watch: {
          cloudstack: { amqp: { urlFile: '/run/credentials/amqp' }, webhookSecretId: 'csdrift/hook' },
        },
      }),
    ).toEqual([]);
  });

  it.each([
    ['a typo', { gracePeriod: 5 }],
    ['an unknown rule option', { rules: { 'bucket-missing-in-store': { tolerancePercent: 5 } } }],
    ['a bad severity', { rules: { 'bucket-stuck-allocated': { severity: 'urgent' } } }],
    [
      'a suppression without its reason',
      {
        suppressions: [
          { rule: 'store-unverified', store: 's', bucket: 'b', owner: 'me', expires: '2027-01-01' },
        ],
      },
    ],
  ])('refuses %s, as csdrift does', (_label, config) => {
    expect(accepts(config)).not.toEqual([]);
  });
});
