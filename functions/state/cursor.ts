// A source's cursor kept between runs (the event table's last id, an ops log's position), in state
// storage: a file in the watcher's state folder, or a key beside the ledger for the AWS poller. None
// yet is a first start; one that does not hold what it should stops the start with what to do.
import type * as z from 'zod';
import { StateCorruptError } from '../core/errors.js';
import { parseJson } from '../core/validation.js';
import type { StateStorage } from './storage.js';

export class Cursor<T> {
  constructor(
    private readonly storage: StateStorage,
    private readonly key: string,
    private readonly schema: z.ZodType<T>,
    /** What to do about a cursor that cannot be read, for the error. */
    private readonly remedy: string,
  ) {}

  get location(): string {
    return this.storage.location(this.key);
  }

  /** The cursor, or null on a first start. */
  async read(): Promise<T | null> {
    const got = await this.storage.read(this.key);
    if (!got) return null;
    return parseJson(this.schema, got.text, (problem, cause) =>
      problem.kind === 'not-json'
        ? new StateCorruptError(`${this.location} is not valid JSON; ${this.remedy}`, { cause })
        : new StateCorruptError(
            `${this.location} holds no cursor csdrift can read (${problem.detail}); ${this.remedy}`,
            { cause },
          ),
    );
  }

  /** Replaced whole (a crash leaves the old cursor, never half of one). */
  async write(value: T): Promise<void> {
    await this.storage.put(this.key, `${JSON.stringify(value)}\n`, 'application/json');
  }
}
