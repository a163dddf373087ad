// A Step Functions Distributed Map run as the fan-out's state machine makes it (infra/fan-out.ts),
// played in the test's process: the items read from the shard manifest the list step wrote
// (ItemReader, S3JsonItemReader), each item handed to the scan step with the run's fields
// (ItemSelector), and the child executions' outputs written the way the result writer writes them
// (ResultWriter: `<prefix>/<map run id>/manifest.json` naming `SUCCEEDED_0.json`, an array of
// executions with their Status and Output as a JSON string), as the AWS Step Functions Developer
// Guide's "ResultWriter (Map)" page describes them.
import { randomUUID } from 'node:crypto';

/** Where the run reads the manifest and writes results: an S3 bucket, or a folder standing in for one. */
export interface ObjectPlace {
  get(key: string): Promise<string>;
  put(key: string, body: string): Promise<void>;
}

export interface ListedRun {
  runId: string;
  startedAt: string;
  input: unknown;
  manifest: { key: string };
}

/** The map run: every item scanned (`concurrency` at a time) and the results written; the Map state's output. */
export async function playMapRun(
  place: ObjectPlace,
  listed: ListedRun,
  scan: (item: Record<string, unknown>) => Promise<unknown>,
  { prefix, concurrency = 4 }: { prefix: string; concurrency?: number },
): Promise<{ MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } }> {
  const items = JSON.parse(await place.get(listed.manifest.key)) as Record<string, unknown>[];
  const executions: Record<string, unknown>[] = [];
  for (let i = 0; i < items.length; i += concurrency) {
    const batch = items.slice(i, i + concurrency);
    const outputs = await Promise.all(
      batch.map((item) =>
        scan({ runId: listed.runId, startedAt: listed.startedAt, input: listed.input, ...item }),
      ),
    );
    batch.forEach((item, k) =>
      executions.push({
        ExecutionArn: `arn:aws:states:eu-west-1:123456789012:execution:AuditStateMachine/ScanEachStore:${randomUUID()}`,
        Input: JSON.stringify(item),
        InputDetails: { Included: true },
        Name: randomUUID(),
        Output: JSON.stringify(outputs[k]),
        OutputDetails: { Included: true },
        RedriveCount: 0,
        RedriveStatus: 'NOT_REDRIVABLE',
        StartDate: new Date().toISOString(),
        Status: 'SUCCEEDED',
        StopDate: new Date().toISOString(),
      }),
    );
  }
  const run = randomUUID();
  const succeeded = `${prefix}/${run}/SUCCEEDED_0.json`;
  await place.put(succeeded, JSON.stringify(executions));
  const manifest = `${prefix}/${run}/manifest.json`;
  await place.put(
    manifest,
    JSON.stringify({
      DestinationBucket: 'reports',
      MapRunArn: `arn:aws:states:eu-west-1:123456789012:mapRun:AuditStateMachine/ScanEachStore:${run}`,
      ResultFiles: { FAILED: [], PENDING: [], SUCCEEDED: [{ Key: succeeded, Size: 0 }] },
    }),
  );
  return {
    MapRunArn: `arn:aws:states:eu-west-1:123456789012:mapRun:AuditStateMachine/ScanEachStore:${run}`,
    ResultWriterDetails: { Bucket: 'reports', Key: manifest },
  };
}
