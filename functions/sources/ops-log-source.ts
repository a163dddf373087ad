// One Ceph RGW store's ops log, followed: the file form (rgw_ops_log_file_path) across rotation and
// truncation, with a cursor file that moves only past lines whose verdicts are written (a watcher
// that stops reads the rest again when it starts; a first start begins at the end), or the unix
// socket form (rgw_ops_log_socket_path: `[`, then entries separated by `,\n`), reconnected when it
// closes. Lines that change nothing the rules compare are let go at once, without parsing.
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import * as z from 'zod';
import { Cursor } from '../state/cursor.js';
import type { StateStorage } from '../state/storage.js';
import type { ChangeEvent } from './cloudstack-event.js';
import type { FilePosition } from './file-follower.js';
import { FileFollower } from './file-follower.js';
import { parseOpsLogLine } from './rgw-ops-entry.js';

export interface OpsLogSourceOptions {
  /** The store the log belongs to (uuid, id or name, as in `watch.opsLogs`). */
  store: string;
  path: string;
  /** Where the position of the file form is kept between runs (opsLogPosition). */
  cursor: Cursor<FilePosition>;
  /** An event for the watcher, and what to call once its verdict is written. */
  onEvent: (event: ChangeEvent, settle: () => void) => void;
  /** A line that is not an ops log entry (or a cut-off one). */
  onMalformed: (why: string) => void;
  onState: (up: boolean, detail: string) => void;
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

export class OpsLogSource {
  private follower: FileFollower | undefined;
  private socket: Socket | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Lines handed over and not yet settled, in file order; the cursor moves past settled ones only. */
  private readonly unsettled: { after: FilePosition; done: boolean }[] = [];
  private committed: FilePosition | undefined;
  private saved: string | undefined;
  private saving: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OpsLogSourceOptions) {}

  async start(): Promise<void> {
    const isSocket = await stat(this.options.path).then(
      (s) => s.isSocket(),
      () => false,
    );
    if (isSocket) return this.connect();
    this.follower = new FileFollower({
      path: this.options.path,
      from: (await this.readCursor()) ?? 'end',
      onLine: (line, after) => this.line(line, after),
      onState: this.options.onState,
      onOverlongLine: () => this.options.onMalformed('a line cut off or too long'),
      ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
      ...(this.options.missingAfterMs !== undefined ? { missingAfterMs: this.options.missingAfterMs } : {}),
    });
    await this.follower.start();
  }

  /** Reads no further; the cursor is saved as far as verdicts are written. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.socket?.destroy();
    await this.follower?.stop();
  }

  /** After the watcher's audits in flight are done: the last position all verdicts cover. */
  async flush(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
  }

  private line(text: string, after?: FilePosition): void {
    let event: ChangeEvent | null;
    try {
      event = parseOpsLogLine(text, this.options.store, () => new Date());
    } catch (err) {
      this.options.onMalformed((err as Error).message);
      event = null;
    }
    if (!after) {
      if (event) this.options.onEvent(event, () => {});
      return;
    }
    if (!event) {
      // Nothing to wait for: the cursor moves at once when nothing before it is pending.
      if (!this.unsettled.length) this.commit(after);
      else this.unsettled.push({ after, done: true });
      return;
    }
    const entry = { after, done: false };
    this.unsettled.push(entry);
    this.options.onEvent(event, () => {
      entry.done = true;
      while (this.unsettled[0]?.done) this.commit((this.unsettled.shift() as { after: FilePosition }).after);
    });
  }

  private commit(after: FilePosition): void {
    this.committed = after;
    if (this.stopped) return; // flush() saves it
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
        .catch((err: Error) =>
          this.options.onState(false, `cannot save the ops log position: ${err.message}`),
        );
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
    socket.on('connect', () => this.options.onState(true, `reading the socket ${this.options.path}`));
    const lines = createInterface({ input: socket, crlfDelay: Infinity });
    lines.on('error', () => {}); // readline passes the socket's error on: told by the close handler
    lines.on('line', (raw) => {
      const text = raw
        .replace(/^\s*\[/, '')
        .replace(/,\s*$/, '')
        .trim();
      if (text && text !== ']') this.line(text);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.stopped) return;
      this.options.onState(false, `the socket ${this.options.path} closed; reconnecting`);
      this.reconnect = setTimeout(() => this.connect(), this.options.reconnectMs ?? 2000);
    });
  }
}
