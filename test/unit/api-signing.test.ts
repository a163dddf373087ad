import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeValue, signedQuery } from '../../functions/cloudstack/api-signing.js';

const signatureOf = (query: string) => decodeURIComponent(query.split('&signature=')[1] ?? '');

describe('CloudStack request signing', () => {
  // Published vectors: the fog library's signing tests (secret "abcdefg").
  it.each([
    [{ account: 'Lorem Ipsum', domainid: 42, q: 'keywords' }, 'V2CxRU4zQQtox1DZsH/66GDdzhg='],
    [{ account: 'Lorem Ipsum', domainid: '42', q: 'keywords' }, 'V2CxRU4zQQtox1DZsH/66GDdzhg='],
    [{ account: 'Lorem Ipsum', domainid: 42, q: '' }, '5bsDirm5pPgVoreQ6vquKRN+4HI='],
    // not sent at all, so not signed: HMAC of "account=lorem%20ipsum&domainid=42"
    [{ account: 'Lorem Ipsum', domainid: 42, q: undefined }, 'TcA3U0fJyEKPUq2p+mNstXCyZz4='],
  ])('signs %j as the published vector', (params, signature) => {
    expect(signatureOf(signedQuery(params, 'abcdefg'))).toBe(signature);
  });

  it('encodes values as Java URLEncoder does, with spaces as %20', () => {
    expect(encodeValue("'StÃ¶p!' said Fred_-~.")).toBe('%27St%C3%83%C2%B6p%21%27%20said%20Fred_-%7E.');
    expect(encodeValue('a*b')).toBe('a*b');
  });

  it('sorts names without regard to case, and signs the lower-cased string', () => {
    const query = signedQuery({ command: 'deleteBucket', id: 'ABC', apiKey: 'KEY' }, 'secret');
    expect(query.split('&signature=')[0]).toBe('apiKey=KEY&command=deleteBucket&id=ABC');
    const expected = createHmac('sha1', 'secret')
      .update('apikey=key&command=deletebucket&id=abc')
      .digest('base64');
    expect(signatureOf(query)).toBe(expected);
  });
});
