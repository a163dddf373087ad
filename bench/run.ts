// `npm run bench`: every benchmark of bench/, a table on standard output and bench/results.json.
// Each speed figure is a ratio against a floor measured in the same run, so the machine cancels out.
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { parseDbUrl } from '../functions/cloudstack/db-url.js';
import { TEST_DB_SERVER } from '../test/support/database.js';
import { coldStart } from './cold-start.js';
import { databaseSide } from './database.js';
import { memory } from './memory.js';
import type { Figure } from './results.js';
import { printTable, writeResults } from './results.js';
import { storeSpeed } from './store-speed.js';
import { eventLatency } from './event-latency.js';
import { feedLatency } from './feed-latency.js';
import { watchMemory } from './watch-memory.js';
import { BEFORE, FULL, QUICK, hostileInputs } from './hostile-inputs.js';
import { healing } from './healing.js';
import { keysCost } from './keys.js';
import { millionBuckets } from './million.js';

const BENCHES = [
  'cold-start',
  'database',
  'memory',
  'store',
  'events',
  'feeds',
  'watch-memory',
  'hostile',
  'healing',
  'keys',
  'million',
] as const;
type Bench = (typeof BENCHES)[number];

const program = new Command('bench')
  .description('measure csdrift against its floors; writes bench/results.json')
  .addOption(new Option('--only <bench...>', 'run only these').choices(BENCHES))
  .option('--quick', 'small sizes: checks the benchmarks work, measures nothing worth keeping')
  .option(
    '--before <bin>',
    "hostile: also run the attacks against another build's bin/csdrift.js (a checkout of 0.9.0), for the figures before",
  )
  .option('--out <file>', 'where the results go', fileURLToPath(new URL('results.json', import.meta.url)))
  .parse();
const options = program.opts<{ only?: Bench[]; quick?: boolean; out: string; before?: string }>();

const server = parseDbUrl(TEST_DB_SERVER);
const quick = options.quick ?? false;
const print = (line: string) => process.stdout.write(`${line}\n`);
const chosen = (b: Bench) => !options.only || options.only.includes(b);

const started = new Date();
const figures: Figure[] = [];
const steps: [Bench, () => Promise<Figure[]>][] = [
  ['cold-start', () => coldStart()],
  ['database', () => databaseSide(server, quick ? 5_000 : 100_000)],
  ['memory', () => memory(server, quick ? [1_000, 5_000] : [10_000, 100_000])],
  [
    'store',
    () =>
      storeSpeed(server, quick ? [200, 1_000] : [1_000, 10_000], quick ? 200 : 1_000, quick ? 1 : 3, print),
  ],
  ['events', () => eventLatency(server, quick ? 3 : 20, quick ? 1_000 : 100_000, print)],
  ['feeds', () => feedLatency(server, quick ? 4 : 52, quick ? 1_000 : 100_000, print)],
  ['healing', () => healing(server, quick ? 3 : 20, quick ? 3 : 10, print)],
  ['keys', () => keysCost(server, quick ? 20 : 300, quick ? 1 : 3, print)],
  [
    'million',
    () =>
      millionBuckets(
        server,
        quick ? [2_000, 20_000] : [100_000, 1_000_000],
        quick ? [1, 1, 1] : [5, 3, 2],
        print,
      ),
  ],
  [
    'watch-memory',
    () =>
      watchMemory(
        server,
        quick
          ? { lines: 100_000, outageSeconds: 10, ghosts: 2_000 }
          : { lines: 1_000_000, outageSeconds: 300, ghosts: 30_000 },
        print,
      ),
  ],
  [
    'hostile',
    async () => [
      ...(options.before
        ? await hostileInputs(server, quick ? QUICK : BEFORE, print, { bin: options.before, label: 'before' })
        : []),
      ...(await hostileInputs(server, quick ? QUICK : FULL, print)),
    ],
  ],
];
for (const [name, step] of steps) {
  if (!chosen(name)) continue;
  const t = performance.now();
  print(`bench ${name} …`);
  figures.push(...(await step()));
  print(`bench ${name}: ${Math.round((performance.now() - t) / 1000)} s`);
}
print('');
printTable(figures, print);
if (!quick) {
  await writeResults(options.out, figures, started);
  print(`\nwritten: ${options.out}`);
}
const missed = figures.filter((f) => f.target && !f.target.met);
if (missed.length) print(`\n${missed.length} target(s) missed: ${missed.map((f) => f.id).join(', ')}`);
