// S3 ListBuckets, parsed as the body streams in. A store of 100,000 buckets answers with some 10 MB of
// XML; taken whole through the SDK's parser that costs over 100 MB at once (bench/memory.ts), where
// this holds only the names and creation dates.
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser } from 'saxes';
import type { StoreBucket } from '../core/model.js';
import type { SignedGetClient } from './admin-api.js';
import type { Body } from './bounds.js';
import { ListingCutShortError } from './classify.js';
import { MAX_NESTING, entryCounter } from './bounds.js';
import { DEFAULT_MAX_BUCKETS } from './http.js';

const MAX_PAGES = 10_000;
const BUCKETS = 'ListAllMyBucketsResult/Buckets';

/** What a ListBuckets page says beyond its buckets (handed on as they are read). */
interface Page {
  token?: string;
}

/**
 * Every bucket, following continuation tokens, each page's handed on as it arrives; a page without a
 * bucket list is a listing cut short.
 */
export async function listAllBuckets(
  http: SignedGetClient,
  onBucket: (bucket: StoreBucket) => void,
  maxBuckets = DEFAULT_MAX_BUCKETS,
): Promise<void> {
  const count = entryCounter(maxBuckets, 'ListBuckets');
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    // Each bucket handed on as it is parsed (MinIO answers a million in one page); a page cut off and
    // asked again resends its first buckets: those already handed on are skipped (S3 lists by name).
    let handed = 0;
    const next = await http.get('/', token ? { 'continuation-token': token } : {}, (body) => {
      let seen = 0;
      return readPage(body, (b) => {
        seen += 1;
        if (seen <= handed) return;
        count();
        onBucket(b);
        handed += 1;
      });
    });
    if (!next.token || next.token === token) return;
    token = next.token;
  }
  throw new ListingCutShortError(`ListBuckets still paginating after ${MAX_PAGES} pages`);
}

/** One ListBuckets answer, read as it streams in, each bucket handed on as it closes. */
export async function readPage(body: Body, onBucket: (bucket: StoreBucket) => void): Promise<Page> {
  const parser = new SaxesParser();
  const page: Page = {};
  // Where the parser is, as `A/B/C`: kept as it moves, for 100,000 buckets' worth of tags.
  let at = '';
  let sawBucketList = false;
  let text = '';
  let bucket: { name?: string; created?: string } = {};
  let depth = 0;
  parser.on('opentag', (tag) => {
    // `<a><a><a>…` would grow the path without end: no real listing nests deeper than 4.
    if (++depth > MAX_NESTING)
      throw new ListingCutShortError(`ListBuckets nested deeper than ${MAX_NESTING} elements`);
    at = at ? `${at}/${localName(tag.name)}` : localName(tag.name);
    text = '';
    if (at === BUCKETS) sawBucketList = true;
    if (at === `${BUCKETS}/Bucket`) bucket = {};
  });
  parser.on('text', (t) => (text += t));
  parser.on('closetag', () => {
    if (at === `${BUCKETS}/Bucket/Name`) bucket.name = text;
    else if (at === `${BUCKETS}/Bucket/CreationDate`) bucket.created = text;
    else if (at === 'ListAllMyBucketsResult/ContinuationToken') page.token = text;
    else if (at === `${BUCKETS}/Bucket`) onBucket(storeBucket(bucket));
    depth -= 1;
    at = at.slice(0, Math.max(0, at.lastIndexOf('/')));
    text = '';
  });
  const decoder = new StringDecoder('utf8');
  // Only the parser's complaints mean a garbled listing; a read that fails is the network's.
  const parse = (text: string, last = false) => {
    try {
      parser.write(text);
      if (last) parser.close();
    } catch (err) {
      if (err instanceof ListingCutShortError) throw err;
      throw new ListingCutShortError(`ListBuckets answered with XML cut short or malformed: ${String(err)}`);
    }
  };
  for await (const chunk of body) parse(decoder.write(chunk));
  parse(decoder.end(), true);
  if (!sawBucketList) throw new ListingCutShortError('ListBuckets answered without a bucket list');
  return page;
}

function storeBucket(bucket: { name?: string; created?: string }): StoreBucket {
  if (!bucket.name) throw new ListingCutShortError('ListBuckets returned a bucket without a name');
  const created = bucket.created ? Date.parse(bucket.created) : NaN;
  return {
    name: bucket.name,
    ...(Number.isNaN(created) ? {} : { createdAt: new Date(created).toISOString() }),
  };
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}
