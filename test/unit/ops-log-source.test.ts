// Following an ops log on disk (and through RGW's unix socket form) without a real RGW: rotation,
// copytruncate, a partial last line, a file that goes and comes back, and the cursor, which moves
// only past lines whose verdicts are written.
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../functions/sources/cloudstack-event.js';
import { OpsLogSource, opsLogPosition } from '../../functions/sources/ops-log-source.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { until } from '../support/until.js';

const entry = (bucket: string, operation = 'delete_bucket') =>
  JSON.stringify({
    bucket,
    time: '2026-12-02T01:00:00.000000Z',
    operation,
    uri: `DELETE /${bucket} HTTP/1.1`,
    http_status: '204',
  });

describe('the ops log source', () => {
  let dir: string;
  let source: OpsLogSource | undefined;
  const events: { event: ChangeEvent; settle: () => void }[] = [];
  const states: string[] = [];
  const malformed: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-opslog-'));
    events.length = 0;
    states.length = 0;
    malformed.length = 0;
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const names = () => events.map((e) => (e.event.target.kind === 'bucket' ? e.event.target.name : '?'));

  async function follow(path: string): Promise<OpsLogSource> {
    source = new OpsLogSource({
      store: 'store-1',
      path,
      cursor: opsLogPosition(new FolderStorage(dir), 'cursor.json'),
      pollMs: 20,
      missingAfterMs: 100,
    });
    await source.start({
      emit: (event, settle) => events.push({ event, settle }),
      received: () => {},
      dropped: (_reason, why) => malformed.push(why ?? ''),
      health: (up, detail) => states.push(`${up ? 'up' : 'down'}: ${detail}`),
      warn: (message) => states.push(`warning: ${message}`),
    });
    return source;
  }

  it('starts at the end, follows appends, a partial last line, copytruncate and rotation', async () => {
    const log = join(dir, 'ops.log');
    await writeFile(log, `${entry('before-start')}\n`);
    await follow(log);

    await appendFile(log, `${entry('a')}\n${entry('b').slice(0, 30)}`);
    await until('a', () => names().includes('a'));
    await appendFile(log, `${entry('b').slice(30)}\n`);
    await until('b', () => names().includes('b'));

    await truncate(log, 0); // copytruncate
    await appendFile(log, `${entry('c')}\n`);
    await until('c', () => names().includes('c'));

    await appendFile(log, `${entry('d')}\n`);
    await rename(log, `${log}.1`); // rotated: d may still be read from the old file
    await writeFile(log, `${entry('e')}\n`);
    await until('e', () => names().includes('e'));

    expect(names()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(malformed).toEqual([]);
  });

  it('a file that goes away is told as down, and followed again from its start when it comes back', async () => {
    const log = join(dir, 'ops.log');
    await writeFile(log, '');
    await follow(log);
    await rm(log);
    await until('down', () => states.some((s) => s.startsWith('down:')));
    await writeFile(log, `${entry('back')}\n`);
    await until('back', () => names().includes('back'));
    expect(states.at(-1)).toMatch(/^up: following/);
  });

  it('the cursor moves only past settled lines: a restart reads an unsettled delete again, not the settled ones', async () => {
    const log = join(dir, 'ops.log');
    await writeFile(log, '');
    await follow(log);
    await appendFile(log, `${entry('first')}\n${entry('x', 'put_obj')}\n${entry('second')}\n`);
    await until('both', () => events.length === 2);
    events[0]?.settle(); // first's verdict is written; second's is not
    await source?.stop(); // saves the position as far as verdicts are written
    const saved = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as { offset: number };
    expect(saved.offset).toBe(Buffer.byteLength(`${entry('first')}\n${entry('x', 'put_obj')}\n`));

    events.length = 0;
    await follow(log);
    await until('again', () => events.length === 1);
    expect(names()).toEqual(['second']);
  });

  it('the unix socket form: `[`, then entries separated by `,\\n`; a closed socket is reconnected', async () => {
    const path = join(dir, 'ops.sock');
    const clients: Socket[] = [];
    const server = createServer((socket) => {
      clients.push(socket);
      socket.write(`[${entry('s1')},\n${entry('s2', 'get_obj')},\n`);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      await follow(path);
      await until('s1', () => names().includes('s1'));
      clients[0]?.end(`${entry('s3')},\n`);
      await until('s3', () => names().includes('s3'));
      await until('reconnected', () => clients.length === 2);
      expect(names()).toEqual(['s1', 's3', 's1']);
      expect(states.some((s) => s.startsWith('down: the socket'))).toBe(true);
    } finally {
      await source?.stop();
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('never opens what is not a regular file: a link to /dev/zero or a FIFO is told as down, and a real log after it is followed', async () => {
    const log = join(dir, 'ops.log');
    await writeFile(log, '');
    await follow(log);
    await rm(log);
    await symlink('/dev/zero', log); // the path briefly points at an endless file
    await until('down: a device', () => states.some((s) => /not a regular file \(a device\)/.test(s)));
    await rm(log);
    await writeFile(log, `${entry('real')}\n`);
    await until('real', () => names().includes('real'));
    await rm(log);
    execFileSync('mkfifo', [log]); // opening a FIFO for reading would wait for a writer for ever
    await until('down: a FIFO', () => states.some((s) => /not a regular file \(a FIFO\)/.test(s)));
    await rm(log);
    await writeFile(log, `${entry('again')}\n`);
    await until('again', () => names().includes('again'));
    expect(names()).toEqual(['real', 'again']);
    expect(states.at(-1)).toMatch(/^up: following/);
  });

  it('the socket form cuts a line without end at 64 KiB, counts it, and reconnects', async () => {
    const path = join(dir, 'ops.sock');
    const clients: Socket[] = [];
    const server = createServer((socket) => {
      clients.push(socket);
      socket.on('error', () => {}); // the watcher cuts the first one off
      if (clients.length === 1) {
        const endless = Buffer.alloc(256 * 1024, 'x'); // a peer that never sends a newline
        socket.write('[');
        socket.write(endless);
      } else socket.write(`[${entry('after')},\n`);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      await follow(path);
      await until('after', () => names().includes('after'));
      expect(malformed).toEqual(['a line of more than 65536 bytes']);
    } finally {
      await source?.stop();
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
