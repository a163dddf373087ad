// scan.incremental's memory: each bucket's last verified read of the attributes its listing identity
// covers, in state storage beside the ledger as one file of JSON lines per store and shard
// (`state/reads/<store uuid>/<shards>/<shard>.jsonl`), so that a store of a million buckets is read
// and written a shard at a time. Written like the ledger: over the version read, and laid again on a
// fresh read when another run wrote first, the later read of a bucket winning. A file that cannot be
// read only costs reads: its buckets are read again and the file written anew.
import { Partitions, partitionOf } from '../common/partitions.js';
import type { BucketRead } from '../core/model.js';
import { bucketReadSchema } from '../core/scan-schema.js';
import { writeOverConflicts } from './conflicts.js';
import type { StateStorage } from './storage.js';

const ROOT = 'state/reads';
const LAYOUT = /\/(\d+)\/(\d+)\.jsonl$/;

const folderOf = (storeUuid: string) => `${ROOT}/${encodeURIComponent(storeUuid)}/`;
const keyOf = (storeUuid: string, shards: number, p: number) => `${folderOf(storeUuid)}${shards}/${p}.jsonl`;

export interface StoreReads {
  readonly shards: number;
  /** Shard p's reads by bucket name (those a shard count of before holds included). */
  shard(p: number): Promise<Map<string, BucketRead>>;
  /**
   * This run's fresh reads of shard p laid on what is stored, the later read of a bucket winning, and
   * the buckets its listing no longer shows (`listed`) dropped.
   */
  record(p: number, fresh: BucketRead[], listed: ReadonlySet<string>): Promise<void>;
  /** Once every shard is recorded: the files of an earlier shard count, now carried over, removed. */
  finish(): Promise<void>;
  close(): void;
}

interface Loaded {
  reads: Map<string, BucketRead>;
  version: string | null;
}

/** A store's reads in `shards` shards; those kept under another shard count are moved over as they are written. */
export async function openStoreReads(
  storage: StateStorage,
  storeUuid: string,
  shards: number,
): Promise<StoreReads> {
  const layouts = await layoutsOf(storage, storeUuid);
  const earlier = [...layouts].filter(([count]) => count !== shards).flatMap(([, keys]) => keys);
  // Reads kept under another shard count: spread over this one's shards once (spilled, never held).
  let carried: Partitions<BucketRead> | undefined;
  if (earlier.length) {
    carried = new Partitions<BucketRead>(shards, 'reads', (r) => r.name);
    for (const key of earlier)
      for (const read of parseReads((await storage.read(key))?.text)) carried.add(read);
  }
  const loaded = new Map<number, Loaded>();
  const recorded = new Set<number>();
  const load = async (p: number): Promise<Loaded> => {
    const got = await storage.read(keyOf(storeUuid, shards, p));
    const reads = new Map<string, BucketRead>();
    for (const read of carried?.read(p) ?? []) laterWins(reads, read);
    for (const read of parseReads(got?.text)) laterWins(reads, read);
    return { reads, version: got?.version ?? null };
  };
  return {
    shards,
    async shard(p) {
      const got = await load(p);
      loaded.set(p, got);
      return got.reads;
    },
    async record(p, fresh, listed) {
      const known = loaded.get(p) ?? (await load(p));
      loaded.delete(p);
      await writeOverConflicts(
        known,
        async (current) => {
          const reads = new Map(current.reads);
          for (const read of fresh) laterWins(reads, read);
          for (const name of reads.keys()) if (!listed.has(name)) reads.delete(name);
          await storage.putIf(keyOf(storeUuid, shards, p), linesOf(reads.values()), current.version);
        },
        () => load(p),
      );
      recorded.add(p);
    },
    async finish() {
      if (recorded.size < shards) return;
      for (const key of earlier) await storage.remove(key);
    },
    close() {
      carried?.close();
    },
  };
}

/**
 * A targeted run's fresh reads (an event named the bucket, and it was read whole): laid on the store's
 * kept reads under every shard count present, so that the next night keeps them rather than the older.
 */
export async function recordReads(
  storage: StateStorage,
  storeUuid: string,
  fresh: BucketRead[],
): Promise<void> {
  if (!fresh.length) return;
  for (const count of (await layoutsOf(storage, storeUuid)).keys()) {
    const byShard = new Map<number, BucketRead[]>();
    for (const read of fresh) {
      const p = partitionOf(read.name, count);
      byShard.set(p, [...(byShard.get(p) ?? []), read]);
    }
    for (const [p, reads] of byShard) {
      const key = keyOf(storeUuid, count, p);
      const load = async (): Promise<Loaded> => {
        const got = await storage.read(key);
        const kept = new Map<string, BucketRead>();
        for (const read of parseReads(got?.text)) laterWins(kept, read);
        return { reads: kept, version: got?.version ?? null };
      };
      await writeOverConflicts(
        await load(),
        async (current) => {
          for (const read of reads) laterWins(current.reads, read);
          await storage.putIf(key, linesOf(current.reads.values()), current.version);
        },
        load,
      );
    }
  }
}

/** The store's reads files by shard count. */
async function layoutsOf(storage: StateStorage, storeUuid: string): Promise<Map<number, string[]>> {
  const layouts = new Map<number, string[]>();
  for (const key of await storage.list(folderOf(storeUuid))) {
    const match = LAYOUT.exec(key);
    if (!match) continue;
    const count = Number(match[1]);
    layouts.set(count, [...(layouts.get(count) ?? []), key]);
  }
  return layouts;
}

function laterWins(reads: Map<string, BucketRead>, read: BucketRead): void {
  const known = reads.get(read.name);
  if (!known || known.verifiedAt < read.verifiedAt) reads.set(read.name, read);
}

/** Each line that holds a read; any other line (a torn or edited file) is left out, its bucket read again. */
function parseReads(text: string | undefined): BucketRead[] {
  if (!text) return [];
  const reads: BucketRead[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const parsed = bucketReadSchema.safeParse(JSON.parse(line));
      if (parsed.success) reads.push(parsed.data);
    } catch {
      // not JSON: left out
    }
  }
  return reads;
}

function linesOf(reads: Iterable<BucketRead>): string {
  let text = '';
  for (const read of reads) text += `${JSON.stringify(read)}\n`;
  return text;
}
