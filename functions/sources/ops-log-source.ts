// One Ceph RGW store's ops log, followed: the file form (rgw_ops_log_file_path) across rotation and
// truncation, with a cursor file that moves only past lines whose verdicts are written (a watcher
// that stops reads the rest again when it starts; a first start begins at the end), or the unix
// socket form (rgw_ops_log_socket_path: `[`, then entries separated by `,\n`), reconnected when it
// closes. Lines that change nothing the rules compare are let go at once, without parsing.
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { stat } from 'node:fs/promises';
import * as z from 'zod';
import { Cursor } from '../state/cursor.js';
import type { StateStorage } from '../state/storage.js';
import { MAX_LINE_BYTES, followLines } from './bounded-lines.js';
import type { ChangeSource, SourceContext } from './change-source.js';
import type { ChangeEvent } from './cloudstack-event.js';
import type { FilePosition } from './file-follower.js';
import { FileFollower } from './file-follower.js';
import { parseOpsLogLine } from './rgw-ops-entry.js';

export interface OpsLogSourceOptions {
  /** The store the log belongs to (its uuid), and its name for people. */
  store: string;
  storeName?: string;
  path: string;
  /** Where the position of the file form is kept between runs (opsLogPosition). */
  cursor: Cursor<FilePosition>;
  pollMs?: number;
  missingAfterMs?: number;
  reconnectMs?: number;
}

const positionSchema = z.strictObject({
  ino: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
});

/** Where an ops log's position is kept: at `key` of the watcher's state storage. */
export function opsLogPosition(storage: StateStorage, key: string): Cursor<FilePosition> {
  return new Cursor(storage, key, positionSchema, 'move it aside to start at the end');
}

/** An event line handed over and not yet settled; `through` is how far the lines after it go. */
interface Unsettled {
  through: FilePosition;
  done: boolean;
}

export class OpsLogSource implements ChangeSource {
  readonly kind = 'ops-log' as const;
  private follower: FileFollower | undefined;
  private socket: Socket | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;
  private paused = false;
  private ctx: SourceContext | undefined;
  /**
   * Event lines handed over and not yet settled, in file order, from `head` on. Positions only: the
   * lines between two events that change nothing move the last entry's `through` on, so a million
   * object lines behind one unsettled delete cost nothing.
   */
  private readonly unsettled: Unsettled[] = [];
  private head = 0;
  private committed: FilePosition | undefined;
  private saved: string | undefined;
  private saving: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OpsLogSourceOptions) {}

  get name(): string {
    return `ops-log ${this.options.storeName ?? this.options.store}`;
  }

  get description(): string {
    return `${this.options.storeName ?? this.options.store}'s ops log ${this.options.path}`;
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    const isSocket = await stat(this.options.path).then(
      (s) => s.isSocket(),
      () => false,
    );
    if (isSocket) return this.connect();
    this.follower = new FileFollower({
      path: this.options.path,
      from: (await this.readCursor()) ?? 'end',
      onLine: (line, after) => this.line(line, after),
      onState: (up, detail) => ctx.health(up, detail),
      onOverlongLine: () => ctx.dropped('malformed', 'a line cut off or too long'),
      ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
      ...(this.options.missingAfterMs !== undefined ? { missingAfterMs: this.options.missingAfterMs } : {}),
    });
    await this.follower.start();
  }

  /** The file form reads no further (the rest waits in the file); the socket form stops reading it. */
  pause(): void {
    this.paused = true;
    this.follower?.pause();
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.follower?.resume();
    this.socket?.resume();
  }

  /** Reads no further; the position is saved as far as the verdicts written go. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.socket?.destroy();
    await this.follower?.stop();
    await this.save();
  }

  private line(text: string, after?: FilePosition): void {
    const ctx = this.ctx as SourceContext;
    let event: ChangeEvent | null;
    try {
      event = parseOpsLogLine(text, this.options.store, () => new Date());
    } catch (err) {
      ctx.dropped('malformed', (err as Error).message);
      event = null;
    }
    if (!after) {
      // The socket form keeps no position: nothing to settle.
      if (event) {
        ctx.received();
        ctx.emit(event, () => {});
      }
      return;
    }
    if (!event) {
      // Nothing to wait for: the cursor moves at once when nothing before it is pending.
      const last = this.unsettled.at(-1);
      if (!last || this.head >= this.unsettled.length) this.commit(after);
      else last.through = after;
      return;
    }
    ctx.received();
    const entry: Unsettled = { through: after, done: false };
    this.unsettled.push(entry);
    ctx.emit(event, () => {
      entry.done = true;
      let through: FilePosition | undefined;
      while (this.head < this.unsettled.length && (this.unsettled[this.head] as Unsettled).done)
        through = (this.unsettled[this.head++] as Unsettled).through;
      if (this.head === this.unsettled.length) {
        this.unsettled.length = 0;
        this.head = 0;
      }
      if (through) this.commit(through);
    });
  }

  private commit(after: FilePosition): void {
    this.committed = after;
    if (this.stopped) return; // stop() saves it
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, 1000);
  }

  private save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const at = this.committed;
      if (!at) return;
      const text = JSON.stringify({ ino: at.ino, offset: at.offset });
      if (text === this.saved) return;
      await this.options.cursor
        .write({ ino: at.ino, offset: at.offset })
        .catch((err: Error) => this.ctx?.health(false, `cannot save the ops log position: ${err.message}`));
      this.saved = text;
    });
    return this.saving;
  }

  private async readCursor(): Promise<FilePosition | null> {
    const cursor = await this.options.cursor.read();
    if (cursor) this.saved = JSON.stringify({ ino: cursor.ino, offset: cursor.offset });
    return cursor;
  }

  /** The socket form: `[`, then entries separated by `,\n`; no position to keep, so none is. */
  private connect(): void {
    if (this.stopped) return;
    const socket = createConnection(this.options.path);
    this.socket = socket;
    socket.on('connect', () => this.ctx?.health(true, `reading the socket ${this.options.path}`));
    if (this.paused) socket.pause();
    const overlong = () => {
      this.ctx?.dropped('malformed', `a line of more than ${MAX_LINE_BYTES} bytes`);
      socket.destroy(); // reconnected by the close handler
    };
    followLines(
      socket,
      (raw) => {
        const text = raw
          .replace(/^\s*\[/, '')
          .replace(/,\s*$/, '')
          .trim();
        if (text && text !== ']') this.line(text);
      },
      overlong,
    );
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.stopped) return;
      this.ctx?.health(false, `the socket ${this.options.path} closed; reconnecting`);
      this.reconnect = setTimeout(() => this.connect(), this.options.reconnectMs ?? 2000);
    });
  }
}
