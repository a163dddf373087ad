// The shape of the code is checked in npm test (npm run check): ESLint keeps functions/core pure and
// dependency-cruiser refuses import circles and arrows pointing outward. These tests plant a
// violation of each and show that the checks catch it, so a check that quietly stopped working fails.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise } from 'dependency-cruiser';
import type { IConfiguration } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as IConfiguration;

describe('the boundary lint rule keeps functions/core pure', () => {
  const eslint = new ESLint();
  const restricted = async (path: string, text: string) =>
    (await eslint.lintText(text, { filePath: path }))[0]?.messages
      .filter((m) => m.ruleId === 'no-restricted-imports')
      .map((m) => m.message.split("'")[1]);

  it('refuses I/O, drivers, SDKs and other rooms in core/, and allows what core may use', async () => {
    const planted = [
      "import { readFile } from 'node:fs/promises';",
      "import { createServer } from 'node:net';",
      "import { createPool } from 'mysql2/promise';",
      "import { S3Client } from '@aws-sdk/client-s3';",
      "import type { StateStorage } from '../state/storage.js';",
      "import * as z from 'zod';",
      "import { createHash } from 'node:crypto';",
      "import { RULES } from './rules/index.js';",
      'export const all = [readFile, createServer, createPool, S3Client, z, createHash, RULES] as unknown as StateStorage;',
    ].join('\n');
    expect(await restricted('functions/core/planted.ts', planted)).toEqual([
      'node:fs/promises',
      'node:net',
      'mysql2/promise',
      '@aws-sdk/client-s3',
      '../state/storage.js',
    ]);
  });

  it('lets a rule import the rest of core, never what lies beyond it', async () => {
    const planted = [
      "import type { Finding } from '../model.js';",
      "import { runAudit } from '../../audit.js';",
      "import { request } from 'node:http';",
      'export const all = [runAudit, request] as unknown as Finding;',
    ].join('\n');
    expect(await restricted('functions/core/rules/planted.ts', planted)).toEqual([
      '../../audit.js',
      'node:http',
    ]);
  });
});

describe('the import graph check refuses circles and outward arrows', () => {
  let root: string;
  const plant = async (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  };
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'csdrift-boundaries-'));
    await plant({
      'functions/core/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'functions/core/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'functions/stores/s3.ts': "import { rows } from '../cloudstack/rows.js';\nexport const s3 = rows;\n",
      'functions/cloudstack/rows.ts': 'export const rows = 1;\n',
      'functions/sources/feed.ts': "import { s3 } from '../stores/s3.js';\nexport const feed = s3;\n",
    });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('names a planted circle and planted outward imports', async () => {
    const planted = await cruise(['functions'], {
      baseDir: root,
      ruleSet: { forbidden: config.forbidden ?? [] },
      validate: true,
    });
    const output = planted.output as { summary: { violations: { rule: { name: string }; from: string }[] } };
    const violations = output.summary.violations.map((v) => `${v.rule.name} ${v.from}`).sort();
    expect(violations).toEqual([
      'adapters-do-not-know-each-other functions/stores/s3.ts',
      'no-circular functions/core/a.ts',
      'sources-say-where-to-look functions/sources/feed.ts',
    ]);
  });
});
