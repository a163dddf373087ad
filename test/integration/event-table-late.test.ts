// cloud.event ids are given at insert, not at commit (MariaDB's AUTO_INCREMENT): an event held in an
// open transaction while a later one commits is passed by the cursor. On the real MariaDB, the poller
// records the gap and hands the event over once it is committed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudStackEventReads } from '../../functions/cloudstack/event-reads.js';
import { connectionOptions } from '../../functions/cloudstack/inventory.js';
import type { ThrowawayDatabase } from '../../functions/demo/throwaway-db.js';
import { EventTablePoller, eventCursor } from '../../functions/sources/event-table-source.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { insertEventRow } from '../support/cloudstack-events.js';
import { freshCloudStackDb } from '../support/database.js';

describe('the cloud.event poller on MariaDB', () => {
  let database: ThrowawayDatabase;
  let other: Connection;
  let dir: string;
  beforeAll(async () => {
    database = await freshCloudStackDb('4.21');
    other = await createConnection(connectionOptions(database.db));
    dir = await mkdtemp(join(tmpdir(), 'csdrift-late-'));
  });
  afterAll(async () => {
    await other.end();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands over an event committed six seconds after a later one (before: never audited, nothing said)', async () => {
    // Prepare: the poller has started at the table's end
    const reads = new CloudStackEventReads(database.db);
    const handed: number[] = [];
    const poller = new EventTablePoller({
      reads,
      cursor: eventCursor(new FolderStorage(dir), 'event-cursor.json'),
      handle: async (rows) => void handed.push(...rows.map((r) => r.id)),
    });
    try {
      await poller.pollOnce();
      const event = { type: 'BUCKET.DELETE' as const, bucketUuid: 'u-1', failed: true, bucketId: 1 };

      // Act: one event in a transaction still open, a later one committed
      await other.beginTransaction();
      const late = await insertEventRow(other, event);
      const later = await insertEventRow(database.conn, event);
      await poller.pollOnce();
      const before = [...handed];
      await other.commit();
      await poller.pollOnce();

      // Assert
      expect(later).toBeGreaterThan(late);
      expect(before).toEqual([later]);
      expect(handed).toEqual([later, late]);
    } finally {
      await reads.close();
    }
  });
});
