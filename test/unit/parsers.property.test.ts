// Property tests for the parsers every verdict rests on: whatever the text and however it arrives,
// a parser returns exactly what was there, or refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describePolicy, noPolicy, policyMeaning } from '../../functions/core/policy-meaning.js';
import { readList } from '../../functions/stores/admin-api.js';
import { grantedBuckets } from '../../functions/stores/minio.js';
import { isJsonObject, xmlRoot } from '../../functions/stores/s3-document.js';
import { readPage } from '../../functions/stores/s3-listing.js';

async function* chunked(text: string, sizes: number[]): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes.length ? (sizes[i % sizes.length] as number) : bytes.length;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Names as a hostile or odd store might give them: any printable unicode, XML metacharacters included. */
const bucketName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter(
    (s) =>
      s.trim() === s &&
      s.length > 0 &&
      [...s].every((c) => c.charCodeAt(0) >= 0x20 && c !== '\ufffe' && c !== '\uffff'),
  );
const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 });

describe('listing parsers (property)', () => {
  it('ListBuckets: every name back exactly, in order, however the body is split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bucketName, { maxLength: 30 }), chunkSizes, async (names, sizes) => {
        const xml = `<?xml version="1.0"?><ListAllMyBucketsResult><Buckets>${names
          .map((n) => `<Bucket><Name>${escapeXml(n)}</Name></Bucket>`)
          .join('')}</Buckets></ListAllMyBucketsResult>`;
        const read: string[] = [];
        await readPage(chunked(xml, sizes), (b) => read.push(b.name));
        expect(read).toEqual(names);
      }),
      { numRuns: 200 },
    );
  });

  it('the admin JSON list: every entry back exactly, however the body is split; any cut is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ bucket: bucketName, size: fc.nat() }), { maxLength: 30 }),
        chunkSizes,
        fc.nat(),
        async (entries, sizes, cutAt) => {
          const text = JSON.stringify(entries);
          const read: unknown[] = [];
          await readList(chunked(text, sizes), 'GET /admin/bucket', (e) => read.push(e));
          expect(read).toEqual(entries);
          const cut = text.slice(0, cutAt % text.length);
          await expect(readList(chunked(cut, sizes), 'GET /admin/bucket', () => {})).rejects.toThrow();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('policy meaning (property)', () => {
  const bucket = 'b';
  const publicStatements = [
    {
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetBucketLocation', 's3:ListBucket'],
      Resource: 'arn:aws:s3:::b',
    },
    { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 's3:GetObject', Resource: ['arn:aws:s3:::b/*'] },
  ];
  const noise = fc.constantFrom(
    {
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::123:user/x'] },
      Action: 's3:*',
      Resource: 'arn:aws:s3:::b/*',
    },
    { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' },
    { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
  );

  it('does not depend on statement order, whitespace or other principals and buckets', () => {
    fc.assert(
      fc.property(
        fc.array(noise, { maxLength: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.nat(),
        (extra, indent, seed) => {
          const statements = [...publicStatements, ...extra];
          const shuffled = [...statements].sort(() => (seed = (seed * 9301 + 49297) % 233280) / 233280 - 0.5);
          const a = policyMeaning(JSON.stringify({ Statement: statements }), bucket);
          const b = policyMeaning(
            JSON.stringify({ Version: '2012-10-17', Statement: shuffled }, null, indent),
            bucket,
          );
          expect({ ...a, statements: 0 }).toEqual({ ...b, statements: 0 });
          expect(describePolicy(a)).toBe('public');
        },
      ),
    );
  });

  it('an unconditional anonymous Deny always wins', () => {
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 3 }), (extra) => {
        const deny = {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
        };
        const meaning = policyMeaning(
          JSON.stringify({ Statement: [...publicStatements, ...extra, deny] }),
          bucket,
        );
        expect({ ...meaning, statements: 0 }).toEqual({ ...noPolicy(), statements: 0 });
      }),
    );
  });
});

describe('MinIO canned policy grants (property)', () => {
  it('names exactly the buckets an Allow statement grants, as text or as a parsed document', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,20}$/), { maxLength: 6 }),
        fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,20}$/), { maxLength: 3 }),
        fc.boolean(),
        (allowed, denied, asText) => {
          const doc = {
            Version: '2012-10-17',
            Statement: [
              ...allowed.map((n) => ({
                Effect: 'Allow',
                Action: ['s3:*'],
                Resource: [`arn:aws:s3:::${n}/*`, `arn:aws:s3:::${n}`],
              })),
              ...denied.map((n) => ({ Effect: 'Deny', Action: ['s3:*'], Resource: [`arn:aws:s3:::${n}/*`] })),
            ],
          };
          expect(grantedBuckets(asText ? JSON.stringify(doc) : doc)).toEqual([...allowed].sort());
        },
      ),
    );
  });
});

describe('the document check on attribute answers (property)', () => {
  it('finds the root element behind any declaration, comments and whitespace, and nothing in non-XML', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('VersioningConfiguration', 'ListBucketResult', 'ObjectLockConfiguration'),
        fc.boolean(),
        fc.string({ maxLength: 5 }).map((s) => s.replace(/[^ \n\t]/g, ' ')),
        fc.boolean(),
        (root, declaration, space, prefixed) => {
          const tag = prefixed ? `s3:${root}` : root;
          const xml = `${declaration ? '<?xml version="1.0" encoding="UTF-8"?>' : ''}${space}<!-- c -->${space}<${tag} xmlns="x"/>`;
          expect(xmlRoot(xml)).toBe(root);
        },
      ),
    );
    fc.assert(
      fc.property(fc.json(), (json) => {
        expect(xmlRoot(json)).toBeNull();
        expect(isJsonObject(json)).toBe(json.trim().startsWith('{'));
      }),
    );
  });
});
