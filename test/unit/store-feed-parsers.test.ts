// The stores' feeds read into events: RGW ops log lines (the delete_bucket line FACTS.md quotes, as
// RGW 16.2.15 wrote it) and MinIO's audit entries and notifications (shapes from MinIO's source).
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../functions/sources/cloudstack-event.js';
import { parseMinioAudit, parseMinioNotification } from '../../functions/sources/minio-event.js';
import { operationOf, parseOpsLogLine } from '../../functions/sources/rgw-ops-entry.js';

const now = () => new Date('2026-12-02T00:00:00Z');

/** FACTS.md, "Ceph RGW ops log": delete_bucket as written (user_agent shortened). */
const DELETE_LINE =
  '{"bucket":"cs-probe-1","time":"2026-12-01T19:33:39.622379Z","time_local":"2026-12-01T19:33:39.622379+0000","remote_addr":"127.0.0.1","user":"4f6c2a1e-0000-4000-8000-00000000abcd","operation":"delete_bucket","uri":"DELETE /cs-probe-1 HTTP/1.1","http_status":"204","error_code":"NoContent","bytes_sent":0,"bytes_received":0,"object_size":0,"total_time":80,"user_agent":"Boto3/1.43.11","referrer":"","trans_id":"tx0000050f79b899c2babe4-006b0f2113-1016-default","authentication_type":"Local","access_key_id":"USERKEYPROBE00000001","temp_url":false}';

const line = (fields: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(DELETE_LINE), ...fields });

describe('RGW ops log lines', () => {
  it('a delete is an event for its bucket on the store the log belongs to, at the time RGW logged', () => {
    expect(parseOpsLogLine(DELETE_LINE, 'store-uuid-1', now)).toEqual({
      source: 'ops-log',
      type: 'delete_bucket',
      status: 'Completed',
      at: new Date('2026-12-01T19:33:39.622Z'),
      target: { kind: 'bucket', name: 'cs-probe-1', store: 'store-uuid-1' },
      failed: false,
      actor: expect.objectContaining({ remoteAddress: '127.0.0.1' }),
    });
  });

  it.each([
    ['an object PUT', line({ operation: 'put_obj', uri: 'PUT /cs-probe-1/k HTTP/1.1' })],
    ['a read', line({ operation: 'stat_bucket' })],
    ['a refused delete', line({ http_status: '409', error_code: 'BucketNotEmpty' })],
    ['an ACL on an object', line({ operation: 'put_acls', uri: 'PUT /cs-probe-1/key?acl HTTP/1.1' })],
  ])('%s changes nothing', (_label, text) => {
    expect(parseOpsLogLine(text, 's', now)).toBeNull();
  });

  it('picks the operation without parsing, so object lines cost no JSON parse, even broken ones', () => {
    expect(operationOf(DELETE_LINE)).toBe('delete_bucket');
    expect(parseOpsLogLine('{"operation":"get_obj", broken', 's', now)).toBeNull();
  });

  it('versioning, policy, a bucket ACL and object lock are events; a tenant/bucket becomes tenant:bucket', () => {
    for (const operation of [
      'set_bucket_versioning',
      'put_bucket_policy',
      'delete_bucket_policy',
      'put_bucket_object_lock',
    ])
      expect(parseOpsLogLine(line({ operation }), 's', now)?.type).toBe(operation);
    expect(
      parseOpsLogLine(line({ operation: 'put_acls', uri: 'PUT /cs-probe-1?acl HTTP/1.1' }), 's', now),
    ).not.toBeNull();
    expect(parseOpsLogLine(line({ bucket: 'acme/logs' }), 's', now)?.target).toMatchObject({
      name: 'acme:logs',
    });
  });

  it.each([
    ['garbage', 'not json at all'],
    ['another JSON', '{"hello":"world"}'],
    ['a name with a control character', line({ bucket: 'a\u0007b' })],
  ])('%s is malformed', (_label, text) => {
    expect(() => parseOpsLogLine(text, 's', now)).toThrow(MalformedEventError);
  });
});

/** madmin-go logger/audit/entry.go, as MinIO's audit webhook posts it (values illustrative). */
const auditEntry = (name: string, bucket: string, statusCode = 200, extra: Record<string, unknown> = {}) => ({
  version: '1',
  deploymentid: 'd-1',
  time: '2026-12-02T01:00:00.000Z',
  trigger: 'incoming',
  api: { name, bucket, statusCode },
  requestHeader: { Authorization: 'AWS4-HMAC-SHA256 secret-looking' },
  ...extra,
});

describe("MinIO's audit webhook and ListenNotification", () => {
  it('changing calls become events; reads and failures do not; one entry, an array or one per line', () => {
    const one = JSON.stringify(auditEntry('DeleteBucket', 'b1', 204));
    expect(parseMinioAudit(one, 'minio-1', now)).toEqual([
      {
        source: 'minio-audit',
        type: 'DeleteBucket',
        status: 'Completed',
        at: new Date('2026-12-02T01:00:00.000Z'),
        target: { kind: 'bucket', name: 'b1', store: 'minio-1' },
        failed: false,
      },
    ]);
    const batch = [
      auditEntry('PutBucketPolicy', 'b2'),
      auditEntry('GetObject', 'b3'),
      auditEntry('DeleteBucket', 'b4', 404),
      auditEntry('PutBucketQuotaConfig', '', 200, { requestQuery: { bucket: 'b5' } }),
    ];
    const names = (events: ReturnType<typeof parseMinioAudit>) =>
      events.map((e) => (e.target.kind === 'bucket' ? e.target.name : ''));
    expect(names(parseMinioAudit(JSON.stringify(batch), undefined, now))).toEqual(['b2', 'b5']);
    expect(names(parseMinioAudit(batch.map((e) => JSON.stringify(e)).join('\n'), undefined, now))).toEqual([
      'b2',
      'b5',
    ]);
    expect(() => parseMinioAudit('{"no":"api"}', undefined, now)).toThrow(MalformedEventError);
  });

  it('BucketCreated and BucketRemoved are events; pings and keep-alive blanks are none', () => {
    const record = (eventName: string) =>
      JSON.stringify({
        Records: [
          { eventName, eventTime: '2025-02-11T14:01:05.123Z', s3: { bucket: { name: 'acct-bkt-1' } } },
        ],
      });
    expect(parseMinioNotification(record('s3:BucketRemoved:*'), 'u-1', now)).toMatchObject([
      { source: 'minio-listen', type: 's3:BucketRemoved:*', target: { name: 'acct-bkt-1', store: 'u-1' } },
    ]);
    expect(parseMinioNotification(record('s3:ObjectCreated:Put'), 'u-1', now)).toEqual([]);
    expect(parseMinioNotification('{"Records":null}', 'u-1', now)).toEqual([]);
    expect(parseMinioNotification('   ', 'u-1', now)).toEqual([]);
    expect(() => parseMinioNotification('{"Records":[{}]}', 'u-1', now)).toThrow(MalformedEventError);
  });
});
