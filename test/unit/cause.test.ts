// Who did it: each source's actor read from its own documented shape (FACTS.md, with sources), the
// cause an event run gives the findings it opens, kept by later runs, and the one line tasks say.
import { describe, expect, it } from 'vitest';
import { agentName, causeLine } from '../../functions/core/cause.js';
import { evaluate } from '../../functions/core/evaluate.js';
import { updateLedger } from '../../functions/core/ledger.js';
import type { FindingCause } from '../../functions/core/model.js';
import { parseBusMessage } from '../../functions/sources/cloudstack-event.js';
import { parseMinioAudit, parseMinioNotification } from '../../functions/sources/minio-event.js';
import { parseOpsLogLine } from '../../functions/sources/rgw-ops-entry.js';
import { fromQueueMessage, toQueueMessage } from '../../functions/sources/queued-event.js';
import { causeOf } from '../../functions/watch/event-audits.js';
import { NOW, aBucket, aScan, absent, anInput, reportOf } from '../support/builders.js';

const now = () => new Date('2026-12-04T02:06:00Z');

// FACTS.md, "Ceph RGW ops log": delete_bucket as RGW 16 writes it (user_agent shortened).
const OPS_LINE =
  '{"bucket":"cs-probe-1","time":"2026-12-01T19:33:39.622379Z","time_local":"2026-12-01T19:33:39.622379+0000","remote_addr":"127.0.0.1","user":"4f6c2a1e-0000-4000-8000-00000000abcd","operation":"delete_bucket","uri":"DELETE /cs-probe-1 HTTP/1.1","http_status":"204","error_code":"NoContent","bytes_sent":0,"bytes_received":0,"object_size":0,"total_time":80,"user_agent":"Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.1.0","referrer":"","trans_id":"tx0000050f79b899c2babe4-006b0f2113-1016-default","authentication_type":"Local","access_key_id":"USERKEYPROBE00000001","temp_url":false}';

describe('the actor of each source', () => {
  it('RGW ops log: the requester, its address, its client and its access key id', () => {
    expect(parseOpsLogLine(OPS_LINE, 'store-uuid', now)?.actor).toEqual({
      user: '4f6c2a1e-0000-4000-8000-00000000abcd',
      accessKey: 'USERKEYPROBE00000001',
      remoteAddress: '127.0.0.1',
      userAgent: 'Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.1.0',
    });
  });

  it('MinIO audit (madmin-go audit.Entry): access key, parent user, remote host, user agent; never the Authorization header', () => {
    const entry = {
      version: '1',
      time: '2026-12-04T02:05:13Z',
      trigger: 'incoming',
      api: { name: 'DeleteBucket', bucket: 'photos', statusCode: 204 },
      remotehost: '10.0.0.5',
      userAgent: 'MinIO (linux; amd64) minio-go/v7.0.70 MinIO Console/(dev)',
      requestHeader: { Authorization: 'AWS4-HMAC-SHA256 Credential=admin/…, Signature=secret' },
      accessKey: 'console-sa',
      parentUser: 'admin',
    };
    const [event] = parseMinioAudit(JSON.stringify(entry), 'minio-1', now);
    expect(event?.actor).toEqual({
      user: 'admin',
      accessKey: 'console-sa',
      remoteAddress: '10.0.0.5',
      userAgent: 'MinIO (linux; amd64) minio-go/v7.0.70 MinIO Console/(dev)',
    });
    expect(JSON.stringify(event)).not.toContain('Signature');
  });

  it('MinIO notifications: the principal and the source host', () => {
    // FACTS.md, "MinIO": a removed bucket's record (event.Event's fields and order).
    const line =
      '{"Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2025-02-11T14:01:05.123Z","eventName":"s3:BucketRemoved:*","userIdentity":{"principalId":"minioadmin"},"requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"10.0.0.5"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"acct-bkt-1","ownerIdentity":{"principalId":"minioadmin"},"arn":"arn:aws:s3:::acct-bkt-1"},"object":{"key":"","sequencer":"1823A0B1C2D3E4F5"}},"source":{"host":"10.0.0.5","port":"","userAgent":"mc/RELEASE.2025-01-01"}}]}';
    expect(parseMinioNotification(line, 'minio-1', now)[0]?.actor).toEqual({
      accessKey: 'minioadmin',
      remoteAddress: '10.0.0.5',
      userAgent: 'mc/RELEASE.2025-01-01',
    });
  });

  it("CloudStack's bus: the calling user's and account's uuids, carried through the events queue", () => {
    // FACTS.md, "Change events": the worked example of the seed case's failed delete.
    const body =
      '{"eventDateTime":"2025-02-11 14:03:27 +0000","entityuuid":"c0ffee00-1234-4abc-9def-00000000b0c5","Bucket":"c0ffee00-1234-4abc-9def-00000000b0c5","description":"Error while deleting bucket. Bucket Id: c0ffee00-1234-4abc-9def-00000000b0c5","event":"BUCKET.DELETE","user":"7c2b0f9e-3d1a-4c55-9a7e-2f1f0c3e5b11","account":"5a3b9e2c-8f41-4d0b-b6a2-9c7e1d4f2a10","entity":"Bucket","status":"Completed"}';
    const event = parseBusMessage(body, 'amqp', now);
    expect(event?.actor).toEqual({
      user: '7c2b0f9e-3d1a-4c55-9a7e-2f1f0c3e5b11',
      account: '5a3b9e2c-8f41-4d0b-b6a2-9c7e1d4f2a10',
    });
    expect(fromQueueMessage(toQueueMessage(event as NonNullable<typeof event>)).actor).toEqual(event?.actor);
  });
});

describe('the cause of a finding', () => {
  const event = (at: string, actor?: object) => ({
    event: {
      source: 'ops-log' as const,
      type: 'delete_bucket',
      status: 'Completed',
      at: new Date(at),
      target: { kind: 'bucket' as const, name: 'gone' },
      failed: false,
      ...(actor ? { actor } : {}),
    },
    settle: () => {},
  });

  it('is the latest event that says who, else the latest event', () => {
    const cause = causeOf([
      event('2026-12-04T02:05:13Z', { user: 'admin' }),
      event('2026-12-04T02:05:20Z'),
      event('2026-12-04T02:04:00Z', { user: 'older' }),
    ]);
    expect(cause).toEqual({
      source: 'ops-log',
      at: '2026-12-04T02:05:13.000Z',
      type: 'delete_bucket',
      actor: { user: 'admin' },
    });
    expect(causeOf([event('2026-12-04T02:05:20Z')])).toEqual({
      source: 'ops-log',
      at: '2026-12-04T02:05:20.000Z',
      type: 'delete_bucket',
    });
  });

  it('goes with a finding an event run opens, and a later run (the nightly one) keeps it', () => {
    const cause: FindingCause = {
      source: 'ops-log',
      at: '2026-12-04T02:05:13.000Z',
      type: 'delete_bucket',
      actor: { user: 'admin', remoteAddress: '10.0.0.5', userAgent: 'MinIO Console' },
    };
    const evaluation = evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') })));
    const first = reportOf(evaluation);
    // reportOf runs updateLedger without causes: lay this run's cause as an event run would.
    const opened = updateLedger({
      previous: null,
      findings: evaluation.findings,
      coverage: evaluation.coverage,
      runId: 'event-1',
      now: NOW,
      confirmRuns: () => 1,
      causes: { gone: cause },
    });
    expect(opened.findings[0]?.cause).toEqual(cause);
    const nightly = reportOf(evaluation, { previous: opened.ledger, runId: 'night' });
    expect(nightly.report.findings[0]?.cause).toEqual(cause);
    expect(first.report.findings[0]?.cause).toBeUndefined();
  });

  it('is said in one line', () => {
    expect(
      causeLine({
        source: 'minio-audit',
        at: '2026-12-04T02:05:13.000Z',
        type: 'DeleteBucket',
        actor: { user: 'admin', remoteAddress: '10.0.0.5', userAgent: 'MinIO Console' },
      }),
    ).toBe('deleted in the store at 02:05:13 UTC by user admin from 10.0.0.5, MinIO Console (minio-audit)');
    expect(
      causeLine({
        source: 'amqp',
        at: '2026-12-04T02:05:13.000Z',
        type: 'BUCKET.DELETE',
        failed: true,
        actor: { user: 'u-1', account: 'a-1' },
      }),
    ).toBe('BUCKET.DELETE failed in CloudStack at 02:05:13 UTC by user u-1 (account a-1) (amqp)');
    expect(causeLine({ source: 'ops-log', at: '2026-12-04T02:05:13.000Z', type: 'put_bucket_policy' })).toBe(
      'changed in the store (put_bucket_policy) at 02:05:13 UTC by an actor its source does not name (ops-log)',
    );
    expect(agentName('aws-cli/2.15.0 Python/3.11 Linux/6.1')).toBe('aws-cli/2.15.0');
    expect(agentName('Mozilla/5.0 (X11; Linux x86_64)')).toBe('Mozilla/5.0');
  });
});
