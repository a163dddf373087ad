// A store's buckets, rows and names split by a hash of the bucket name into partitions that each fit
// in memory: the first half of a grace hash join. The sources arrive in no useful order (RGW lists
// by owner, the database by id), so each item goes to its partition as it arrives and the pairing is
// done one partition at a time: whatever the store's size, no more than one partition is ever held.
// One partition stays in memory; more are spilled to files of JSON lines in the OS temp folder,
// each written in appends of up to 64 KiB and removed when the audit is done with them. The lines
// waiting to be appended are bounded for all partitions together, not per partition: a million
// buckets make two hundred partitions, and 64 KiB of short names for each of them was 40 MB of heap
// (a line of a bucket name costs its string, a line break and a slot: four times its characters).
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const FLUSH_BYTES = 64 * 1024;
/** The heap the lines waiting for all partitions may take before every partition is appended. */
const PENDING_AT_MOST = 2 * 1024 * 1024;
/** What a waiting line costs beyond its characters: its string's header and its slot in the list. */
const LINE_OVERHEAD = 40;
/** Items one partition held in memory keeps before it too goes to a file: a store far larger than its rows. */
const HELD_AT_MOST = 10_000;

/** The partition of a bucket name, the same in every process and every run. */
export function partitionOf(name: string, count: number): number {
  return count <= 1 ? 0 : crc32(name) % count;
}

/** How many partitions `items` need so that each holds about `perPartition`. */
export function partitionsFor(items: number, perPartition: number): number {
  return Math.max(1, Math.ceil(items / perPartition));
}

export class Partitions<T> {
  readonly count: number;
  private held: T[] = [];
  private readonly pending: string[][] = [];
  /** With `names`: each waiting item's name, as a JSON string, for its partition's names file. */
  private readonly pendingNames: string[][] = [];
  private readonly pendingBytes: number[] = [];
  private pendingTotal = 0;
  private folder?: string;
  private readonly sizes: number[];

  /**
   * `count` partitions of `what` (`listing`, `rows`), each item filed by `nameOf` it: in memory for
   * one partition of few items, in files otherwise.
   */
  constructor(
    count: number,
    private readonly what: string,
    private readonly nameOf: (item: T) => string,
    /** Only these partitions are kept (one shard of a store judged in its own invocation); the rest are let go. */
    private readonly keep?: (partition: number) => boolean,
    /**
     * Also keep each partition's names in a file of their own (readNames): a store's listing is
     * checked against its rows by name before any partition is judged, and its entries are ten to
     * twenty times the size of their names.
     */
    private readonly names = false,
  ) {
    this.count = Math.max(1, count);
    this.sizes = Array.from({ length: this.count }, () => 0);
    if (this.count > 1) this.spill();
  }

  /** Items added in all. */
  get size(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }

  add(item: T): void {
    const p = partitionOf(this.nameOf(item), this.count);
    if (this.keep && !this.keep(p)) return;
    this.sizes[p] = (this.sizes[p] ?? 0) + 1;
    if (!this.folder) {
      this.held.push(item);
      if (this.held.length > HELD_AT_MOST) this.spill();
      return;
    }
    // Without its line break: a line joined with "\n" when it is written is one string, not two.
    const line = JSON.stringify(item);
    (this.pending[p] as string[]).push(line);
    let cost = line.length + LINE_OVERHEAD;
    if (this.names) {
      const name = JSON.stringify(this.nameOf(item)); // a name in CloudStack's rows may hold a line break
      (this.pendingNames[p] as string[]).push(name);
      cost += name.length + LINE_OVERHEAD;
    }
    const waiting = (this.pendingBytes[p] ?? 0) + cost;
    this.pendingBytes[p] = waiting;
    this.pendingTotal += cost;
    if (waiting >= FLUSH_BYTES) this.flush(p);
    else if (this.pendingTotal >= PENDING_AT_MOST) for (let q = 0; q < this.count; q++) this.flush(q);
  }

  /** Every item of partition p, in the order added. */
  read(p: number): T[] {
    if (!this.folder) return this.held;
    this.flush(p);
    return this.sizes[p] ? parsedLines<T>(this.file(p)) : [];
  }

  /** The names of partition p's items (`names` partitions: from their own file, not the items'). */
  readNames(p: number): string[] {
    if (!this.folder || !this.names) return this.read(p).map(this.nameOf);
    this.flush(p);
    return this.sizes[p] ? parsedLines<string>(this.file(p, 'names')) : [];
  }

  /**
   * The same items in `count` partitions (a listing far larger than the rows it was sized for): read
   * back a few lines at a time, never a partition at once. This one is closed.
   */
  moveTo(count: number): Partitions<T> {
    const moved = new Partitions<T>(count, this.what, this.nameOf, undefined, this.names);
    for (let p = 0; p < this.count; p++) {
      if (!this.folder) {
        for (const item of this.held) moved.add(item);
        break;
      }
      this.flush(p);
      if (this.sizes[p]) eachLine(this.file(p), (line) => moved.add(JSON.parse(line) as T));
    }
    this.close();
    return moved;
  }

  /** The files, gone. Safe to call twice. */
  close(): void {
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
    this.held = []; // what read() gave out stays the caller's
  }

  private spill(): void {
    this.folder = mkdtempSync(join(tmpdir(), `csdrift-${this.what}-`));
    for (let p = 0; p < this.count; p++) {
      this.pending.push([]);
      this.pendingNames.push([]);
      this.pendingBytes.push(0);
    }
    const held = this.held;
    this.held = [];
    for (const item of held) {
      const p = partitionOf(this.nameOf(item), this.count);
      this.sizes[p] = (this.sizes[p] ?? 1) - 1;
      this.add(item);
    }
  }

  private file(p: number, of: 'items' | 'names' = 'items'): string {
    return join(this.folder as string, of === 'items' ? `${p}.jsonl` : `${p}.names.jsonl`);
  }

  private flush(p: number): void {
    const lines = this.pending[p];
    if (!lines?.length) return;
    appendFileSync(this.file(p), `${lines.join('\n')}\n`);
    lines.length = 0;
    const names = this.pendingNames[p];
    if (names?.length) {
      appendFileSync(this.file(p, 'names'), `${names.join('\n')}\n`);
      names.length = 0;
    }
    this.pendingTotal -= this.pendingBytes[p] ?? 0;
    this.pendingBytes[p] = 0;
  }
}

/** Every line of a partition's file, each a JSON value, read whole (one partition fits in memory). */
function parsedLines<T>(path: string): T[] {
  const text = readFileSync(path, 'utf8');
  const values: T[] = [];
  let from = 0;
  for (let at = text.indexOf('\n'); at >= 0; from = at + 1, at = text.indexOf('\n', from))
    values.push(JSON.parse(text.slice(from, at)) as T);
  return values;
}

/** Each line of a file, read 1 MiB at a time. */
function eachLine(path: string, onLine: (line: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    const decoder = new StringDecoder('utf8'); // a character split between two reads stays whole
    let rest = '';
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      const text = rest + decoder.write(chunk.subarray(0, n));
      const last = text.lastIndexOf('\n');
      for (const line of text.slice(0, last).split('\n')) if (line) onLine(line);
      rest = text.slice(last + 1);
    }
    if (rest) onLine(rest);
  } finally {
    closeSync(fd);
  }
}
