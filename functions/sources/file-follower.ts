// `tail -F` for one log file, as a stream of whole lines with the position after each: it follows
// the file across rotation (a new file at the path: the old one is read to its end first) and
// truncation (copytruncate: read again from the start), keeps a partial last line until its newline
// comes, and waits for a file that is not there (yet). Polling, not inotify: a rename or a truncate
// is seen the same way on every filesystem, and a poll every 250 ms is well inside the latency the
// watcher promises.
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { InvalidInputError } from '../core/errors.js';

/** Where a line ends: the file (by inode) and the byte after its newline. */
export interface FilePosition {
  ino: number;
  offset: number;
}

export interface FileFollowerOptions {
  path: string;
  /** Where to begin: a position from an earlier run, or `end` (only what is written from now on). */
  from: FilePosition | 'end';
  onLine: (line: string, after: FilePosition) => void;
  /** Told when the file goes missing for longer than `missingAfterMs`, comes back, or cannot be read. */
  onState: (up: boolean, detail: string) => void;
  pollMs?: number;
  /** A line longer than this is cut off and reported as such (it cannot be an ops log entry). */
  maxLineBytes?: number;
  /** A file rotated away and not yet recreated is normal for a quiet RGW: only this long a gap is an outage. */
  missingAfterMs?: number;
  onOverlongLine?: () => void;
}

const CHUNK = 1024 * 1024;

export class FileFollower {
  private fh: FileHandle | undefined;
  private ino = -1;
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);
  private skipping = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private paused = false;
  private missingSince: number | undefined;
  private state: string | undefined;
  private polling: Promise<void> = Promise.resolve();
  private readonly buffer = Buffer.allocUnsafe(CHUNK);

  constructor(private readonly options: FileFollowerOptions) {}

  async start(): Promise<void> {
    const { from } = this.options;
    const now = await stat(this.options.path).catch(() => undefined);
    if (now?.isFile()) {
      // A saved position in the same file resumes there; another file at the path (rotated while
      // we were away) is all new; a first start takes only what comes from now on.
      const offset =
        from === 'end' ? now.size : from.ino === now.ino && from.offset <= now.size ? from.offset : 0;
      await this.openAt(offset);
    }
    this.schedule(0);
  }

  /** Reads nothing more until resume: what is written meanwhile waits in the file. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
  }

  /** One poll at a time: the next is scheduled when this one is done, and stop() waits for it. */
  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.pollOnce().finally(() => this.schedule(this.options.pollMs ?? 250));
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    if (this.stopped || this.paused) return;
    try {
      const atPath = await stat(this.options.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (this.fh) {
        const size = (await this.fh.stat()).size;
        if (size < this.offset) this.restartAt(0); // truncated in place (copytruncate)
        if (!(await this.readToEnd())) return; // paused or stopped half-way: the rest waits in the file
        if (atPath && atPath.ino !== this.ino) {
          // Rotated: the old file is read to its end, then the new one from its start.
          this.dropPartial();
          await this.fh.close().catch(() => {});
          this.fh = undefined;
        }
      }
      if (atPath && !atPath.isFile()) {
        // A FIFO, a device (a link to /dev/zero), a folder: never opened (it could block or never end).
        this.setState(
          false,
          `${this.options.path} is not a regular file (${kindOf(atPath)}); waiting for one`,
        );
        return;
      }
      if (!atPath) {
        // RGW creates the file at its first entry after a start or a rotation: a short gap is normal.
        this.missingSince ??= Date.now();
        if (Date.now() - this.missingSince >= (this.options.missingAfterMs ?? 30_000))
          this.setState(false, `${this.options.path} is not there; waiting for it`);
        return;
      }
      this.missingSince = undefined;
      if (!this.fh) {
        await this.openAt(0);
        await this.readToEnd();
      }
      this.setState(true, `following ${this.options.path}`);
    } catch (err) {
      this.setState(false, `cannot read ${this.options.path}: ${(err as Error).message}`);
    }
  }

  private setState(up: boolean, detail: string): void {
    if (this.state === detail) return;
    this.state = detail;
    this.options.onState(up, detail);
  }

  /** Non-blocking, so that a FIFO swapped in after the stat cannot hang the open; checked again after. */
  private async openAt(offset: number): Promise<void> {
    const fh = await open(this.options.path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await fh.stat();
    if (!info.isFile()) {
      await fh.close().catch(() => {});
      throw new InvalidInputError(`it is not a regular file (${kindOf(info)})`);
    }
    this.fh = fh;
    this.ino = info.ino;
    this.restartAt(offset);
  }

  private restartAt(offset: number): void {
    this.offset = offset;
    this.partial = Buffer.alloc(0);
    this.skipping = false;
  }

  /**
   * Reads on to the end of the file, a chunk at a time, yielding to the event loop between chunks
   * (a backlog of a million lines never freezes the process); false when paused or stopped first.
   */
  private async readToEnd(): Promise<boolean> {
    const fh = this.fh as FileHandle;
    for (;;) {
      const { bytesRead } = await fh.read(this.buffer, 0, CHUNK, this.offset);
      if (!bytesRead) return true;
      this.take(this.buffer.subarray(0, bytesRead));
      if (this.stopped || this.paused) return false;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Whole lines out, each with the position after its newline; a partial last line waits. */
  private take(chunk: Buffer): void {
    const max = this.options.maxLineBytes ?? 64 * 1024;
    let start = 0;
    const base = this.offset;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const bytes = this.partial.length
        ? Buffer.concat([this.partial, chunk.subarray(start, nl)])
        : chunk.subarray(start, nl);
      this.partial = Buffer.alloc(0);
      if (this.skipping) this.skipping = false;
      else if (bytes.length)
        this.options.onLine(bytes.toString('utf8'), { ino: this.ino, offset: base + nl + 1 });
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipping) {
      this.partial = Buffer.concat([this.partial, chunk.subarray(start)]);
      if (this.partial.length > max) {
        this.partial = Buffer.alloc(0);
        this.skipping = true; // the rest of this line is dropped with it
        this.options.onOverlongLine?.();
      }
    }
    this.offset = base + chunk.length;
  }

  /** A last line the old file never finished: it cannot be a whole entry. */
  private dropPartial(): void {
    if (this.partial.length) this.options.onOverlongLine?.();
    this.partial = Buffer.alloc(0);
  }
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a folder';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}
