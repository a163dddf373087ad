// The one Lambda handler factory: the payload refused before anything else, and a known fault
// reported under its stable code as the error type (what Lambda shows as errorType).
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { StateConflictError } from '../../functions/core/errors.js';
import { csdriftHandler } from '../../functions/handlers/handler.js';

const context = {
  functionName: 'f',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('csdriftHandler', () => {
  it('reports a csdrift fault as csdrift.<code>, keeping its message and cause; other errors keep their name', async () => {
    const cause = new Error('the ETag changed');
    const conflict = csdriftHandler(
      async () => {
        throw new StateConflictError('another run updated state/ledger.json', { cause });
      },
      { metrics: false },
    );
    await expect(conflict({}, context)).rejects.toMatchObject({
      name: 'csdrift.state-conflict',
      message: 'another run updated state/ledger.json',
      cause,
    });
    const plain = csdriftHandler(
      async () => {
        throw new TypeError('a bug');
      },
      { metrics: false },
    );
    await expect(plain({}, context)).rejects.toMatchObject({ name: 'TypeError' });
  });

  it("checks the payload first with Powertools' parser: a bad one never reaches the function, and is named on one line", async () => {
    let ran = false;
    const handler = csdriftHandler(
      async (event: { n: number }) => {
        ran = true;
        return event.n;
      },
      {
        metrics: false,
        payload: { schema: z.strictObject({ n: z.number() }), name: 'payload', expected: '{ n: number }' },
      },
    );
    await expect(handler({ n: 'x' }, context)).rejects.toMatchObject({
      name: 'csdrift.invalid-input',
      message: 'payload: n: Invalid input: expected number, received string; expected { n: number }',
    });
    await expect(handler({ n: 1, m: 2 }, context)).rejects.toThrow('payload: (top level): unknown key "m"');
    expect(ran).toBe(false);
    await expect(handler({ n: 2 }, context)).resolves.toBe(2);
  });
});
