// CloudStack's change events read into one shape; the fixtures are FACTS.md's worked example
// (../shared/cloudstack/FACTS.md, "Change events", produced with Gson 2.10.1 on JDK 17).
import { describe, expect, it } from 'vitest';
import {
  AMQP_BINDING_KEYS,
  MalformedEventError,
  fromEventRow,
  parseBusMessage,
  parseEventDateTime,
} from '../../functions/sources/cloudstack-event.js';
import { signatureMatches, webhookSignature } from '../../functions/sources/webhook-signature.js';

const FAILED_DELETE =
  '{"eventDateTime":"2025-02-11 14:03:27 +0000","entityuuid":"c0ffee00-1234-4abc-9def-00000000b0c5","Bucket":"c0ffee00-1234-4abc-9def-00000000b0c5","description":"Error while deleting bucket. Bucket Id: c0ffee00-1234-4abc-9def-00000000b0c5","event":"BUCKET.DELETE","user":"7c2b0f9e-3d1a-4c55-9a7e-2f1f0c3e5b11","account":"5a3b9e2c-8f41-4d0b-b6a2-9c7e1d4f2a10","entity":"Bucket","status":"Completed"}';
const now = () => new Date('2026-01-01T00:00:00Z');

describe('CloudStack change events', () => {
  it("reads the seed case's bus message: a failed delete of one bucket, at CloudStack's time", () => {
    expect(Buffer.byteLength(FAILED_DELETE)).toBe(396);
    expect(parseBusMessage(FAILED_DELETE, 'amqp', now)).toEqual({
      source: 'amqp',
      type: 'BUCKET.DELETE',
      status: 'Completed',
      at: new Date('2025-02-11T14:03:27Z'),
      target: { kind: 'bucket', uuid: 'c0ffee00-1234-4abc-9def-00000000b0c5' },
      failed: true,
      actor: {
        user: '7c2b0f9e-3d1a-4c55-9a7e-2f1f0c3e5b11',
        account: '5a3b9e2c-8f41-4d0b-b6a2-9c7e1d4f2a10',
      },
    });
  });

  it('checks the webhook signature over the raw bytes, as FACTS.md gives it', () => {
    const body = Buffer.from(FAILED_DELETE, 'utf8');
    const expected = '6+K9nOsTlC8vCZzgvz1YmDcVR7rf7KfI2AhPmg/DZL8=';
    expect(webhookSignature('s3cr3t-webhook-key', body)).toBe(expected);
    expect(signatureMatches('s3cr3t-webhook-key', body, expected)).toBe(true);
    expect(signatureMatches('another-key', body, expected)).toBe(false);
    expect(signatureMatches('s3cr3t-webhook-key', Buffer.from(`${FAILED_DELETE} `), expected)).toBe(false);
    expect(signatureMatches('s3cr3t-webhook-key', body, undefined)).toBe(false);
    expect(signatureMatches('s3cr3t-webhook-key', body, 'short')).toBe(false);
  });

  it('reads the cloud.event row of the same failure by its resource id', () => {
    const row = {
      id: 7,
      uuid: '0b6f3d2a-9c41-4e8e-8d4b-5f7a2c1e9d30',
      type: 'BUCKET.DELETE',
      state: 'Completed',
      description: 'Error while deleting bucket. Bucket Id: c0ffee00-1234-4abc-9def-00000000b0c5',
      resourceId: 42,
      resourceType: 'Bucket',
      created: new Date('2025-02-11T14:03:27Z'),
      accountName: 'alice',
    };
    expect(fromEventRow(row)).toMatchObject({
      source: 'event-table',
      target: { kind: 'bucket', uuid: 'c0ffee00-1234-4abc-9def-00000000b0c5', id: 42 },
      failed: true,
      eventId: '7',
      // The row holds the account's id; the poller reads its name with it: who did it.
      actor: { account: 'alice' },
    });
  });

  it('ignores events of other resources, and refuses what is not an event', () => {
    const vm = JSON.stringify({ event: 'VM.START', status: 'Completed', entity: 'VirtualMachine' });
    expect(parseBusMessage(vm, 'amqp', now)).toBeNull();
    for (const bad of ['not json', '[]', '{"event": 5}', '{"event":"BUCKET.DELETE","status":"Completed"}'])
      expect(() => parseBusMessage(bad, 'webhook', now)).toThrow(MalformedEventError);
  });

  it("binds the queue to CloudStack's routing keys for bucket and object store events", () => {
    expect(AMQP_BINDING_KEYS).toContain('*.ActionEvent.BUCKET-DELETE.*.*');
    expect(AMQP_BINDING_KEYS).toContain('*.ActionEvent.OBJECT-STORE-UPDATE.*.*');
    expect(parseEventDateTime('2025-02-11 16:03:27 +0200')).toEqual(new Date('2025-02-11T14:03:27Z'));
    expect(parseEventDateTime('Tue Feb 11 2025')).toBeUndefined();
  });
});
