// A store's buckets, rows and names split by a hash of the bucket name into partitions that each fit
// in memory: the first half of a grace hash join. The sources arrive in no useful order (RGW lists
// by owner, the database by id), so each item goes to its partition as it arrives and the pairing is
// done one partition at a time: whatever the store's size, no more than one partition is ever held.
// One partition stays in memory; more are spilled to files of JSON lines in the OS temp folder,
// each written in 64 KiB appends and removed when the audit is done with them.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const FLUSH_BYTES = 64 * 1024;

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
  private readonly held: T[][] = [];
  private readonly pending: string[][] = [];
  private readonly pendingBytes: number[] = [];
  private readonly folder?: string;
  private readonly sizes: number[];

  /** `count` partitions of `what` (`listing`, `rows`): in memory for one, in files for more. */
  constructor(count: number, what: string) {
    this.count = Math.max(1, count);
    this.sizes = Array.from({ length: this.count }, () => 0);
    if (this.count === 1) this.held.push([]);
    else {
      this.folder = mkdtempSync(join(tmpdir(), `csdrift-${what}-`));
      for (let p = 0; p < this.count; p++) {
        this.pending.push([]);
        this.pendingBytes.push(0);
      }
    }
  }

  /** Items added in all. */
  get size(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }

  add(name: string, item: T): void {
    const p = partitionOf(name, this.count);
    this.sizes[p] = (this.sizes[p] ?? 0) + 1;
    if (!this.folder) return void this.held[0]?.push(item);
    const line = `${JSON.stringify(item)}\n`;
    (this.pending[p] as string[]).push(line);
    this.pendingBytes[p] = (this.pendingBytes[p] ?? 0) + line.length;
    if ((this.pendingBytes[p] ?? 0) >= FLUSH_BYTES) this.flush(p);
  }

  /** Every item of partition p, in the order added. */
  read(p: number): T[] {
    if (!this.folder) return this.held[0] ?? [];
    this.flush(p);
    if (!this.sizes[p]) return [];
    const text = readFileSync(this.file(p), 'utf8');
    const items: T[] = [];
    let from = 0;
    for (let at = text.indexOf('\n'); at >= 0; from = at + 1, at = text.indexOf('\n', from))
      items.push(JSON.parse(text.slice(from, at)) as T);
    return items;
  }

  /** The files, gone. Safe to call twice. */
  close(): void {
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
    this.held.length = 0;
  }

  private file(p: number): string {
    return join(this.folder as string, `${p}.jsonl`);
  }

  private flush(p: number): void {
    const lines = this.pending[p];
    if (!lines?.length) return;
    appendFileSync(this.file(p), lines.join(''));
    lines.length = 0;
    this.pendingBytes[p] = 0;
  }
}
