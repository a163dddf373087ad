// One hierarchy of typed errors (after Powertools): each carries what the user needs to act, never a
// secret, keeps the error that caused it (`cause`, for debug logs), and has a stable `code` that
// drives the CLI's exit status and the Lambda functions' error type. A known fault never reaches the
// CLI as "unexpected error".

/** Stable codes: scripts and alarms may match them. */
export type ErrorCode =
  | 'internal'
  | 'invalid-input'
  | 'config'
  | 'database-unreachable'
  | 'schema-mismatch'
  | 'state-corrupt'
  | 'state-conflict'
  | 'state-write'
  | 'remediation-refused'
  | 'remediation-failed'
  | 'store'
  | 'cloudstack-api'
  | 'malformed-event'
  | 'output-closed';

export class CsdriftError extends Error {
  override name = 'CsdriftError';
  readonly code: ErrorCode = 'internal';
}

/** Every known fault exits 3 (docs/contract.md, "Command line"): nothing was audited, or the state is unusable. */
export function exitStatusOf(err: CsdriftError): 3 {
  void err.code;
  return 3;
}

/** A flag, a URL or a config file the user gave is wrong. */
export class InvalidInputError extends CsdriftError {
  override name = 'InvalidInputError';
  override readonly code = 'invalid-input' as const;
}

export class ConfigError extends CsdriftError {
  override name = 'ConfigError';
  override readonly code = 'config' as const;
}

export class DatabaseUnreachableError extends CsdriftError {
  override name = 'DatabaseUnreachableError';
  override readonly code = 'database-unreachable' as const;
  constructor(
    readonly host: string,
    readonly port: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the CloudStack database at ${host}:${port}: ${reason}`, options);
  }
}

/**
 * A file of state (the ledger, the run history, a source's cursor) cannot be read: it is never
 * overwritten, and what needed it stops before anything is written. The message names the file.
 */
export class StateCorruptError extends CsdriftError {
  override name = 'StateCorruptError';
  override readonly code = 'state-corrupt' as const;
}

/** Another run changed a file of state since this one read it (conditional writes); this run's reports stay written. */
export class StateConflictError extends CsdriftError {
  override name = 'StateConflictError';
  override readonly code = 'state-conflict' as const;
}

/** A file of state or a report could not be written (a full disk, a permission): its path and why; nothing half-written stays. */
export class StateWriteError extends CsdriftError {
  override name = 'StateWriteError';
  override readonly code = 'state-write' as const;
}

/** A remediation that must not run now; nothing was changed. */
export class RemediationRefusedError extends CsdriftError {
  override name = 'RemediationRefusedError';
  override readonly code = 'remediation-refused' as const;
}

export class SchemaMismatchError extends CsdriftError {
  override name = 'SchemaMismatchError';
  override readonly code = 'schema-mismatch' as const;
}

/** A fault of csdrift's own in one line: its name and message, whitespace folded, cut at 300. */
export function faultText(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  return `${e?.name ?? 'Error'}: ${String(e?.message ?? err)
    .replace(/\s+/g, ' ')
    .slice(0, 300)}`;
}

/** A step of a remediation did not do what it should; the record says which, and nothing after it ran. */
export class RemediationFailedError extends CsdriftError {
  override name = 'RemediationFailedError';
  override readonly code = 'remediation-failed' as const;
}

/** A store answered, or failed to answer, in a way a scan cannot use. */
export class StoreError extends CsdriftError {
  override name = 'StoreError';
  override readonly code: ErrorCode = 'store';
}

/** CloudStack's API refused or failed a call. */
export class CloudStackApiError extends CsdriftError {
  override name = 'CloudStackApiError';
  override readonly code = 'cloudstack-api' as const;
}

/** An event from the bus, a webhook or a store's feed that is not one csdrift can read. */
export class MalformedEventError extends CsdriftError {
  override name = 'MalformedEventError';
  override readonly code = 'malformed-event' as const;
}

/** Standard output was closed by its reader (`csdrift demo | head`): the command stops and cleans up. */
export class OutputClosedError extends CsdriftError {
  override name = 'OutputClosedError';
  override readonly code = 'output-closed' as const;
}
