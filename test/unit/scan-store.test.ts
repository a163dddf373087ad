// scanStore against a fake adapter: every way a store or our own code can fail ends in a non-verdict.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { AbsenceCheck, StoreBucket } from '../../functions/core/model.js';
import type { StoreAdapter, StoreConnection } from '../../functions/stores/adapter.js';
import { ListingCutShortError } from '../../functions/stores/classify.js';
import { scanStore } from '../../functions/stores/scan-store.js';
import { NOW, aStore } from '../support/builders.js';

const OPTIONS = { concurrency: 4, requestTimeoutMs: 1000, maxAttempts: 1, retryBaseDelayMs: 1 };
const SECRET = 'the-admin-secret-key';

type Behaviour<T> = { ok: T } | { throws: unknown };

interface Fake {
  listing: Behaviour<StoreBucket[]>;
  heads?: Record<string, Behaviour<AbsenceCheck>>;
  attributes?: Behaviour<Record<string, never>>;
}

function fakeAdapter(fake: Fake): StoreAdapter & { closed: () => boolean } {
  let closed = false;
  const settle = async <T>(b: Behaviour<T>): Promise<T> => {
    if ('throws' in b) throw b.throws;
    return b.ok;
  };
  return {
    capabilities: ['versioning'],
    notApplicable: {},
    closed: () => closed,
    connect(): StoreConnection {
      return {
        listBuckets: async (onBucket) => {
          for (const b of await settle(fake.listing)) onBucket(b);
        },
        headBucket: async (name) => ({ result: await settle(fake.heads?.[name] ?? { ok: 'absent' }) }),
        readAttributes: async () => ({ attributes: await settle(fake.attributes ?? { ok: {} }) }),
        requestCount: () => 3,
        close: () => void (closed = true),
      };
    },
  };
}

function scan(fake: Fake, expected: string[] = [], onInternalError = vi.fn()) {
  const adapter = fakeAdapter(fake);
  const store = aStore({ credentials: { accessKey: 'AK', secretKey: SECRET } });
  return {
    adapter,
    onInternalError,
    result: scanStore({
      store,
      expected,
      options: OPTIONS,
      adapter,
      now: () => NOW,
      attributes: ['versioning'],
      inspect: [{ name: 'a', accountUuid: null, accountName: null }],
      onInternalError,
    }),
  };
}

const httpError = (status: number, name: string) =>
  Object.assign(new Error(`${name} with ${SECRET}`), { name, $metadata: { httpStatusCode: status } });

describe('scanStore', () => {
  it('verifies a complete listing and confirms each absence directly', async () => {
    const { result, adapter } = scan({ listing: { ok: [{ name: 'a' }] } }, ['a', 'gone']);
    const s = await result;
    expect(s).toMatchObject({ status: 'verified', listingComplete: true, requests: 3 });
    expect(s.absenceChecks.gone?.result).toBe('absent');
    expect(adapter.closed()).toBe(true);
  });

  it.each([
    ['a 403', httpError(403, 'AccessDenied'), 'auth_failed'],
    ['a 503', httpError(503, 'SlowDown'), 'unreachable'],
    ['a reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'unreachable'],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'unreachable'],
    ['a listing cut short', new ListingCutShortError('cut'), 'partial'],
    ['a 200 the SDK could not parse', httpError(200, 'SyntaxError'), 'partial'],
  ])('a listing that fails with %s is %s: no bucket, no verdict, no secret', async (_l, err, status) => {
    const { result, onInternalError } = scan({ listing: { throws: err } }, ['a']);
    const s = await result;
    expect(s).toMatchObject({ status, listingComplete: false, buckets: [], absenceChecks: {} });
    expect(JSON.stringify(s)).not.toContain(SECRET);
    expect(onInternalError).not.toHaveBeenCalled();
  });

  it.each([
    ['listing', { listing: { throws: new TypeError("Cannot read properties of undefined (reading 'x')") } }],
    ['absence check', { listing: { ok: [] }, heads: { a: { throws: new RangeError('bad') } } }],
    ['attribute read', { listing: { ok: [{ name: 'a' }] }, attributes: { throws: new TypeError('oops') } }],
  ] as [string, Fake][])(
    'a fault of our own in the %s is an internal error: never partial or unreachable, never retried',
    async (_label, fake) => {
      const { result, onInternalError } = scan(fake, ['a']);
      const s = await result;
      expect(s.status).toBe('skipped');
      expect(s.internalError).toMatch(/^(TypeError|RangeError): /);
      expect(s.listingComplete).toBe(false);
      expect(onInternalError).toHaveBeenCalledOnce();
      expect(onInternalError.mock.calls[0]?.[0].cause).toBeInstanceOf(Error);
    },
  );

  it('a bucket the listing lacked but HeadBucket found, or could not confirm, makes the store partial', async () => {
    const present = await scan({ listing: { ok: [] }, heads: { a: { ok: 'present' } } }, ['a']).result;
    const unknown = await scan({ listing: { ok: [] }, heads: { a: { ok: 'unknown' } } }, ['a']).result;
    expect(present).toMatchObject({ status: 'partial', listingComplete: false });
    expect(unknown).toMatchObject({ status: 'partial', listingComplete: false });
  });

  it("redacts the owners' keys it read, as well as the admin's, from every error it keeps", async () => {
    const owner = { accessKey: 'OWNER-ACCESS-KEY-1', secretKey: 'owner-secret-key-abcdef' };
    const adapter: StoreAdapter = {
      capabilities: ['versioning'],
      notApplicable: {},
      connect(_store, _options, context): StoreConnection {
        return {
          listBuckets: async (onBucket) => onBucket({ name: 'a' }),
          headBucket: async () => ({ result: 'absent' }),
          readAttributes: async () => {
            const keys = await context?.ownerKeys?.('acct');
            return {
              attributes: {
                a: {
                  versioning: { error: `AccessDenied for ${keys?.accessKey} signed with ${keys?.secretKey}` },
                },
              },
            };
          },
          requestCount: () => 1,
          close: () => {},
        };
      },
    };
    const s = await scanStore({
      store: aStore(),
      expected: [],
      options: OPTIONS,
      adapter,
      now: () => NOW,
      attributes: ['versioning'],
      inspect: [{ name: 'a', accountUuid: 'acct', accountName: 'alice' }],
      context: { ownerKeys: async () => owner },
    });
    const text = JSON.stringify(s);
    expect(text).toContain('AccessDenied');
    expect(text).not.toContain(owner.accessKey);
    expect(text).not.toContain(owner.secretKey);
  });

  it('says auth_failed without keys and skipped when told to skip, asking the store nothing', async () => {
    const adapter = fakeAdapter({ listing: { ok: [] } });
    const base = { expected: [], options: OPTIONS, adapter, now: () => NOW };
    const noKeys = await scanStore({ ...base, store: aStore({ credentials: null }) });
    const skipped = await scanStore({ ...base, store: aStore({ skip: true }) });
    expect(noKeys).toMatchObject({ status: 'auth_failed', requests: 0 });
    expect(skipped).toMatchObject({ status: 'skipped', requests: 0 });
  });

  it('never reports absence unless the listing was complete and HeadBucket said 404 (property)', async () => {
    const failure = fc.constantFrom<unknown>(
      httpError(403, 'AccessDenied'),
      httpError(500, 'InternalError'),
      new ListingCutShortError('cut'),
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      new TypeError('ours'),
    );
    const behaviour = <T>(value: fc.Arbitrary<T>) =>
      fc.oneof(
        value.map((ok) => ({ ok })),
        failure.map((throws) => ({ throws })),
      );
    await fc.assert(
      fc.asyncProperty(
        behaviour(fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 })),
        fc.dictionary(
          fc.constantFrom('a', 'b', 'c', 'd'),
          behaviour(fc.constantFrom<AbsenceCheck>('absent', 'present', 'unknown')),
        ),
        async (listing, heads) => {
          const fake: Fake = {
            listing: 'ok' in listing ? { ok: listing.ok.map((name) => ({ name })) } : listing,
            heads,
          };
          const s = await scan(fake, ['a', 'b', 'c', 'd']).result;
          const absent = Object.entries(s.absenceChecks).filter(([, c]) => c.result === 'absent');
          if (s.status !== 'verified') expect(s.listingComplete).toBe(false);
          if (!('ok' in listing)) expect(s.buckets).toEqual([]);
          for (const [name] of absent) {
            expect(s.buckets.map((b) => b.name)).not.toContain(name);
            expect(heads[name] ?? { ok: 'absent' }).toEqual({ ok: 'absent' });
          }
          expect(JSON.stringify(s)).not.toContain(SECRET);
        },
      ),
      { numRuns: 300 },
    );
  });
});
