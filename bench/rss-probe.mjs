// Preloaded (node --import) into a process whose peak memory a benchmark measures: at exit, the peak
// resident set size in bytes goes to the file named by CSDRIFT_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const file = process.env.CSDRIFT_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
