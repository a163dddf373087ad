// The steps an operator follows to fix a finding, safest first. Shared by the rules so that the
// same fix reads the same everywhere.
import { cmd, sh } from './shell.js';
import type { DbBucket, StoreRef } from './model.js';

/** `updateResourceCount` for the bucket's owner; without a resource type it recounts all of them. */
export function recountCommand(bucket: DbBucket): string {
  const o = bucket.owner;
  if (!o) return `\`cmk update resourcecount domainid=<owner's domain uuid> account=<owner's account name>\``;
  return bucket.projectUuid
    ? cmd`cmk update resourcecount domainid=${o.domainUuid} projectid=${bucket.projectUuid}`
    : cmd`cmk update resourcecount domainid=${o.domainUuid} account=${o.accountName}`;
}

/** A soft delete, as CloudStack's own delete does it. Never a hard DELETE: it leaves the counts too high. */
export function softDeleteSql(bucket: DbBucket): string {
  return `\`UPDATE bucket SET removed = UTC_TIMESTAMP() WHERE id = ${bucket.id} AND removed IS NULL;\``;
}

export function recountStep(bucket: DbBucket): string {
  return `Recount the owner's resources so the bucket and object_storage counts stay right: ${recountCommand(bucket)}`;
}

/** The hand soft delete, for rows CloudStack itself cannot delete, then the recount. */
export function softDeleteSteps(bucket: DbBucket): string[] {
  return [
    `Soft-delete the row in the CloudStack database (never DELETE it): ${softDeleteSql(bucket)}`,
    recountStep(bucket),
  ];
}

export function deleteThroughCloudStack(bucket: DbBucket): string {
  if (!bucket.uuid)
    return `Delete it through CloudStack: cmk delete bucket id=<uuid of bucket row ${bucket.id}>`;
  return `Delete it through CloudStack: ${cmd`cmk delete bucket id=${bucket.uuid}`} (API deleteBucket with that id)`;
}

export function storeSideCommand(
  store: StoreRef,
  verb: 'create' | 'inspect' | 'delete',
  bucket: string,
): string {
  const at = store.endpoint;
  const command = {
    create: cmd`aws s3api create-bucket --bucket=${bucket} --endpoint-url=${at}`,
    inspect: cmd`aws s3api head-bucket --bucket=${bucket} --endpoint-url=${at} && aws s3 ls s3://${bucket} --summarize --recursive --endpoint-url=${at}`,
    delete: cmd`aws s3 rb s3://${bucket} --force --endpoint-url=${at}`,
  }[verb];
  const rgw =
    store.provider === 'Ceph'
      ? {
          create: ` (on Ceph, with the owner's keys, so the bucket belongs to the account's RGW user)`,
          inspect: ` (on Ceph: ${cmd`radosgw-admin bucket stats --bucket=${bucket}`})`,
          delete: ` (on Ceph: ${cmd`radosgw-admin bucket rm --bucket=${bucket} --purge-objects`})`,
        }[verb]
      : '';
  return `${command}${rgw}`;
}

/** Re-apply CloudStack's recorded value: updateBucket calls the store driver whenever a parameter is given. */
export function updateBucketCommand(
  bucket: DbBucket,
  parameter: string,
  value: string | number | boolean,
): string {
  const setting = `${parameter}=${value}`;
  const command = bucket.uuid
    ? cmd`cmk update bucket id=${bucket.uuid} ${setting}`
    : `\`cmk update bucket id=<uuid of bucket row ${bucket.id}> ${sh`${setting}`}\``;
  return `${command} (API updateBucket with ${setting})`;
}

export const GIB = 1024 ** 3;

/** One line of what is at stake: `3.40 GiB unbilled, 120.0 MiB misbilled (2 of unknown size; 12.30 EUR a month)`. */
export function atStake(summary: {
  bytes?: { unbilled: number; misbilled: number; unknownSize: number; billedButGone?: number };
  monthlyCost?: { unbilled: number; misbilled: number; billedButGone?: number; currency: string };
}): string | null {
  const b = summary.bytes;
  const gone = b?.billedButGone ?? 0;
  if (!b || (!b.unbilled && !b.misbilled && !b.unknownSize && !gone)) return null;
  const cost = summary.monthlyCost;
  const notes = [
    ...(b.unknownSize ? [`${b.unknownSize} finding(s) of unknown size`] : []),
    ...(cost ? [`${(cost.unbilled + cost.misbilled).toFixed(2)} ${cost.currency} a month`] : []),
  ];
  // Money billed for nothing, next to the data nobody pays for: the other side of the same ledger.
  const billed = gone
    ? `, ${humanBytes(gone)} billed for buckets that are gone${cost?.billedButGone !== undefined ? ` (${cost.billedButGone.toFixed(2)} ${cost.currency} a month)` : ''}`
    : '';
  return `${humanBytes(b.unbilled)} unbilled, ${humanBytes(b.misbilled)} misbilled${notes.length ? ` (${notes.join('; ')})` : ''}${billed}`;
}

/** `, holding 3.40 GiB` where the store said how much, else nothing. */
export function holding(bytes: number | undefined): string {
  return bytes === undefined ? '' : `, holding ${humanBytes(bytes)}`;
}

/** Bytes in the unit a person reads: GiB with two decimals, or MiB for small amounts. */
export function humanBytes(bytes: number): string {
  if (Math.abs(bytes) >= GIB) return `${(bytes / GIB).toFixed(2)} GiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
