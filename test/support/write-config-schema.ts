// `npm run docs:schema`: writes schema/config.schema.json from the config's zod schema (what
// test/unit/config-schema.test.ts checks), formatted as the repository's prettier does.
import { writeFile } from 'node:fs/promises';
import { format } from 'prettier';
import { configJsonSchema } from '../../functions/cli/config-schema.js';

await writeFile(
  'schema/config.schema.json',
  await format(JSON.stringify(configJsonSchema()), { parser: 'json' }),
);
process.stdout.write('schema/config.schema.json: written from the config schema\n');
