import { describe, expect, it } from 'vitest';
import { readList } from '../../functions/stores/admin-api.js';
import { checkNesting } from '../../functions/stores/bounds.js';
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

describe('checkNesting (a whole document, before it is parsed)', () => {
  const check = (text: string) => () => checkNesting(Buffer.from(text, 'utf8'), 'GET /admin/user');

  it('lets a real document through, however many brackets it holds side by side', () => {
    expect(check('{"keys":[{"user":"a"}],"caps":[]}')).not.toThrow();
    // 2,000 brackets, never more than 3 deep: past the count, the byte-by-byte watch decides.
    expect(check(`[${Array.from({ length: 1000 }, () => '{"a":[]}').join(',')}]`)).not.toThrow();
    // Brackets inside strings do not nest, escaped quotes do not end them.
    expect(check(`{"acl":"${'[{'.repeat(100)}\\"${'['.repeat(100)}"}`)).not.toThrow();
  });

  it('refuses a document nested deeper than 64 levels, as the streamed watch does', () => {
    expect(check(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(/JSON nested deeper than 64 levels/);
    expect(check(`${'['.repeat(64)}${']'.repeat(64)}`)).not.toThrow();
    expect(check(`{"a":${'{"b":'.repeat(70)}1${'}'.repeat(71)}`)).toThrow(ListingCutShortError);
  });
});
