// The code cites the outside contract by section (`docs/contract.md, "Section"`): every section it
// cites must exist in the document the repository carries.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('docs/contract.md', () => {
  it('has every section the code cites', async () => {
    const doc = await readFile('docs/contract.md', 'utf8');
    const sections = new Set([...doc.matchAll(/^##+ (.+)$/gm)].map((m) => (m[1] as string).split(' (')[0]));
    const files = (await readdir('functions', { recursive: true })).filter((f) => f.endsWith('.ts'));
    const cited: string[] = [];
    for (const file of files) {
      const text = await readFile(join('functions', file), 'utf8');
      if (/CONTRACT\.md/.test(text)) cited.push(`${file}: CONTRACT.md (not in the repository)`);
      for (const m of text.matchAll(/docs\/contract\.md,?\s+(?:\/\/\s*)?"([^"]+)"/g))
        cited.push(`${file}: ${m[1]}`);
    }
    expect(cited.length).toBeGreaterThanOrEqual(6);
    expect(cited.filter((c) => !sections.has(c.split(': ')[1] as string))).toEqual([]);
  });
});
