import type { StoreBucket } from '../../functions/core/model.js';
import { describe, expect, it } from 'vitest';
import { ListingCutShortError } from '../../functions/stores/classify.js';
import { readPage } from '../../functions/stores/s3-listing.js';

/** A body as the HTTP handler gives it: the XML in chunks of `size` bytes, split anywhere. */
async function* chunks(xml: string, size = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(xml, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const page = (buckets: string, more = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>admin</ID></Owner><Buckets>${buckets}</Buckets>${more}</ListAllMyBucketsResult>`;
const bucket = (name: string, created = '2026-11-20T10:00:00.000Z') =>
  `<Bucket><Name>${name}</Name><CreationDate>${created}</CreationDate></Bucket>`;

/** A page as read: its buckets (handed on one by one) and its token. */
async function readWhole(body: AsyncGenerator<Buffer>): Promise<{ buckets: StoreBucket[]; token?: string }> {
  const buckets: StoreBucket[] = [];
  const { token } = await readPage(body, (b) => buckets.push(b));
  return { buckets, ...(token ? { token } : {}) };
}

describe('readPage', () => {
  it('reads names, creation dates and the continuation token from a body split mid-character', async () => {
    const xml = page(
      bucket('photos') + bucket('bäckups', '2026-11-21T01:02:03Z'),
      '<ContinuationToken>t-2</ContinuationToken>',
    );

    const read = await readWhole(chunks(xml, 3));

    expect(read).toEqual({
      buckets: [
        { name: 'photos', createdAt: '2026-11-20T10:00:00.000Z' },
        { name: 'bäckups', createdAt: '2026-11-21T01:02:03.000Z' },
      ],
      token: 't-2',
    });
  });

  it('reads an empty store as no buckets, and no token as the last page', async () => {
    expect(await readWhole(chunks(page('')))).toEqual({ buckets: [] });
  });

  it.each([
    ['cut off mid-way', page(bucket('a') + bucket('b')).slice(0, 180), /cut short or malformed/],
    ['without a bucket list', '<ListAllMyBucketsResult></ListAllMyBucketsResult>', /without a bucket list/],
    [
      'with a nameless bucket',
      page('<Bucket><CreationDate>2026-11-20T10:00:00Z</CreationDate></Bucket>'),
      /without a name/,
    ],
    ['not XML at all', '{"buckets": []}', /cut short or malformed/],
  ])('refuses a body %s: a listing cut short, never fewer buckets', async (_label, xml, message) => {
    const reading = readWhole(chunks(xml));
    await expect(reading).rejects.toThrow(ListingCutShortError);
    await expect(readWhole(chunks(xml))).rejects.toThrow(message);
  });
});
