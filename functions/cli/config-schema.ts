// The config's JSON Schema for editors (yaml-language-server, VS Code): generated from the zod schema
// the config is checked with, plus the forms the secrets step accepts before that check (`<key>File`
// and the Secrets Manager references), so that an editor accepts exactly what csdrift accepts.
// Written to schema/config.schema.json by `npm run docs:schema`; test/unit/config-schema.test.ts
// holds the two together.
import * as z from 'zod';
import { auditConfigSchema } from '../core/config.js';
import { FILE_PATHS, SECRET_REFERENCES } from '../secrets/resolve-secrets.js';

interface JsonSchemaObject {
  properties?: Record<string, unknown>;
  additionalProperties?: unknown;
  required?: string[];
  [key: string]: unknown;
}

export function configJsonSchema(): object {
  const schema = z.toJSONSchema(auditConfigSchema, {
    io: 'input',
    target: 'draft-2020-12',
  }) as JsonSchemaObject;
  for (const path of FILE_PATHS) {
    const key = path[path.length - 1] as string;
    addReference(schema, path.slice(0, -1), `${key}File`, [key], {
      type: 'string',
      minLength: 1,
      description: `A file holding ${key} (a systemd credential, a secret volume), read at start; its trailing newline is dropped.`,
    });
  }
  for (const ref of SECRET_REFERENCES)
    addReference(schema, ref.at, ref.key, ref.becomes, {
      type: 'string',
      minLength: 1,
      description: `A Secrets Manager secret (name or ARN) holding ${ref.holds}, read at start instead of ${ref.becomes.join(' and ')}.`,
    });
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: 'csdrift config',
    description:
      'The config of cloudstack-drift-auditor (csdrift --config). Generated from the schema csdrift checks it with; see the README, "Auditing a real CloudStack".',
    ...rest,
  };
}

/** Adds a property beside those it stands for, which then are no longer required there. */
function addReference(
  root: JsonSchemaObject,
  at: readonly string[],
  name: string,
  replaces: readonly string[],
  property: object,
): void {
  let node: JsonSchemaObject | undefined = root;
  for (const segment of at)
    node = (segment === '*' ? node?.additionalProperties : node?.properties?.[segment]) as
      JsonSchemaObject | undefined;
  if (!node?.properties) throw new Error(`config schema: no object at ${at.join('.')}`);
  node.properties[name] = property;
  if (node.required) {
    node.required = node.required.filter((k) => !replaces.includes(k));
    if (!node.required.length) delete node.required;
  }
}
