// `npm run docs:rules`: writes the README's rules table from the registry (what
// test/unit/rules-doc.test.ts checks), formatted as the repository's prettier does.
import { readFile, writeFile } from 'node:fs/promises';
import { format } from 'prettier';
import { rulesMarkdown } from '../../functions/cli/rules-command.js';

const START = '<!-- rules table: generated from the registry';
const END = '<!-- end of rules table -->';

const readme = await readFile('README.md', 'utf8');
const from = readme.indexOf('\n', readme.indexOf(START)) + 1;
const to = readme.indexOf(END);
if (from <= 0 || to < 0) throw new Error(`README.md: the markers of the rules table are missing`);
const table = (await format(rulesMarkdown(), { parser: 'markdown', printWidth: 110 })).trim();
await writeFile('README.md', `${readme.slice(0, from)}\n${table}\n\n${readme.slice(to)}`);
process.stdout.write('README.md: rules table written from the registry\n');
