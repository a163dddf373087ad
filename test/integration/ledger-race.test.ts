import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLedger } from '../../functions/core/ledger.js';

const WRITER = new URL('../support/ledger-writer.mjs', import.meta.url).pathname;

interface Writer {
  wrote: string[];
  done: Promise<number | null>;
  kill: () => void;
}

function startWriter(dir: string, id: number, count: number): Writer {
  const child = spawn(process.execPath, [WRITER, dir, String(id), String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wrote: string[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    for (const line of text.split('\n')) if (line.startsWith('wrote ')) wrote.push(line.slice(6));
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code && code !== 0) console.error(stderr);
      resolve(code);
    }),
  );
  return { wrote, done, kill: () => child.kill('SIGKILL') };
}

describe('racing writers on one ledger folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-race-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('never lose an update nor leave a torn file, with stale locks planted and a writer killed mid-way', async () => {
    // A lock left by a run that died long ago: taken over, never waited on for ever.
    const lock = join(dir, 'state', 'ledger.lock');
    await mkdir(lock, { recursive: true });
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, longAgo, longAgo);

    const writers = Array.from({ length: 6 }, (_, id) => startWriter(dir, id, 12));
    const victim = startWriter(dir, 99, 1000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    victim.kill(); // perhaps while it holds the lock or between its write and its rename
    const codes = await Promise.all(writers.map((w) => w.done));
    await victim.done;

    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const text = await readFile(join(dir, 'state', 'ledger.json'), 'utf8');
    const ledger = parseLedger(text, 'ledger.json'); // whole and valid: never torn
    const keys = Object.keys(ledger.entries);
    for (const w of writers) {
      expect(w.wrote).toHaveLength(12);
      for (const key of w.wrote) expect(keys).toContain(key); // no update lost
    }
    for (const key of victim.wrote) expect(keys).toContain(key); // what it said it wrote stands
    // The survivors leave no temporary file behind.
    const left = (await readdir(join(dir, 'state'))).filter((f) => f.endsWith('.tmp'));
    expect(left.length).toBeLessThanOrEqual(1); // at most the victim's, cut off before its rename
  }, 60_000);
});
