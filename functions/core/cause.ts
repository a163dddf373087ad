// Who did it, in one line for people: the change event that opened a finding, as its source told it
// (issue: "deleted in the store at 02:05:13 UTC by user admin from 10.0.0.5, MinIO Console"). Pure.
import type { Actor, FindingCause } from './model.js';

/** What the event did, by the names its sources give it (RGW ops log, MinIO audit and notifications, CloudStack). */
function what(cause: FindingCause): string {
  const t = cause.type;
  if (/^(delete_bucket|DeleteBucket|ForceDeleteBucket|s3:BucketRemoved:.*)$/.test(t))
    return 'deleted in the store';
  if (/^(create_bucket|PutBucket|s3:BucketCreated:.*)$/.test(t)) return 'created in the store';
  if (/^BUCKET\.|^OBJECT\.STORE\./.test(t)) return `${t}${cause.failed ? ' failed' : ''} in CloudStack`;
  return `changed in the store (${t})`;
}

/** A user agent as people know it: `MinIO Console`, `aws-cli/2.15.0`, `Boto3/1.43.11`, or its first word. */
export function agentName(agent: string): string {
  if (/MinIO Console/i.test(agent)) return 'MinIO Console';
  const known =
    /\b(aws-cli\/\S+|mc\/\S+|rclone\/\S+|s3cmd\/\S+|Boto3\/\S+|aws-sdk-\w+\/\S+|CloudStack\S*)/i.exec(agent);
  return (known?.[1] ?? agent.split(/[\s(]/)[0] ?? agent).slice(0, 60);
}

function who(actor: Actor | undefined): string {
  if (!actor) return 'an actor its source does not name';
  const name = actor.user
    ? `user ${actor.user}`
    : actor.accessKey
      ? `access key ${actor.accessKey}`
      : actor.account
        ? `account ${actor.account}`
        : 'an unnamed caller';
  const account = actor.user && actor.account ? ` (account ${actor.account})` : '';
  const from = actor.remoteAddress ? ` from ${actor.remoteAddress}` : '';
  const agent = actor.userAgent ? `, ${agentName(actor.userAgent)}` : '';
  return `${name}${account}${from}${agent}`;
}

/** `deleted in the store at 02:05:13 UTC by user admin from 10.0.0.5, MinIO Console (ops-log)`. */
export function causeLine(cause: FindingCause): string {
  const at = Number.isNaN(Date.parse(cause.at))
    ? cause.at
    : `${new Date(cause.at).toISOString().slice(11, 19)} UTC`;
  return `${what(cause)} at ${at} by ${who(cause.actor)} (${cause.source})`;
}
