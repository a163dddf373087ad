import { describe, expect, it } from 'vitest';
import { readList } from '../../functions/stores/admin-api.js';
import { ListingCutShortError } from '../../functions/stores/classify.js';

async function* chunks(text: string, size = 5): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const name = (entry: unknown) => (entry as { bucket?: string }).bucket;

/** readList's entries, by name, as a list. */
async function listed(body: AsyncGenerator<Buffer>): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  await readList(body, 'GET /admin/bucket', (entry) => out.push(name(entry)));
  return out;
}

describe('readList', () => {
  it('hands each entry of a list split anywhere to pick, in order', async () => {
    const body = ' [{"bucket":"a","ver":"0#1,1#1"},{"bucket":"bé","usage":{}}]\n';

    expect(await listed(chunks(body, 3))).toEqual(['a', 'bé']);
  });

  it('reads an empty list as no entries', async () => {
    expect(await listed(chunks('[]'))).toEqual([]);
  });

  it.each([
    ['cut off mid-entry', '[{"bucket":"a"},{"buck', /JSON cut short or malformed/],
    ['cut off between entries', '[{"bucket":"a"},', /JSON cut short or malformed/],
    ['an object, not a list', '{"Code":"AccessDenied"}', /did not answer with a list/],
    ['empty', '', /empty body/],
    ['followed by more', '[{"bucket":"a"}] [', /JSON cut short or malformed/],
  ])('refuses a body %s: a listing cut short, never fewer buckets', async (_label, body, message) => {
    await expect(listed(chunks(body))).rejects.toThrow(ListingCutShortError);
    await expect(listed(chunks(body))).rejects.toThrow(message);
  });
});
