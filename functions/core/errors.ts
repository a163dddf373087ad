// Typed errors that carry what the user needs to act, never a secret. Each maps to exit 3.

export class CsdriftError extends Error {
  override name = 'CsdriftError';
}

/** A flag, a URL or a config file the user gave is wrong. */
export class InvalidInputError extends CsdriftError {
  override name = 'InvalidInputError';
}

export class ConfigError extends CsdriftError {
  override name = 'ConfigError';
}

export class DatabaseUnreachableError extends CsdriftError {
  override name = 'DatabaseUnreachableError';
  constructor(
    readonly host: string,
    readonly port: number,
    reason: string,
  ) {
    super(`cannot reach the CloudStack database at ${host}:${port}: ${reason}`);
  }
}

/**
 * A file of state (the ledger, the run history, a source's cursor) cannot be read: it is never
 * overwritten, and what needed it stops before anything is written. The message names the file.
 */
export class StateCorruptError extends CsdriftError {
  override name = 'StateCorruptError';
}

/** Another run changed a file of state since this one read it (conditional writes); this run's reports stay written. */
export class StateConflictError extends CsdriftError {
  override name = 'StateConflictError';
}

/** A file of state or a report could not be written (a full disk, a permission): its path and why; nothing half-written stays. */
export class StateWriteError extends CsdriftError {
  override name = 'StateWriteError';
}

/** A remediation that must not run now; nothing was changed. */
export class RemediationRefusedError extends CsdriftError {
  override name = 'RemediationRefusedError';
}

export class SchemaMismatchError extends CsdriftError {
  override name = 'SchemaMismatchError';
}

/** A fault of csdrift's own in one line: its name and message, whitespace folded, cut at 300. */
export function faultText(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  return `${e?.name ?? 'Error'}: ${String(e?.message ?? err)
    .replace(/\s+/g, ' ')
    .slice(0, 300)}`;
}
