import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import type { JsonProblem } from '../../functions/core/validation.js';
import { parseJson } from '../../functions/core/validation.js';
import { describeDb, parseDbUrl } from '../../functions/cloudstack/db-url.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import {
  isRetryable,
  isStoreFault,
  listingFailureStatus,
  ListingCutShortError,
} from '../../functions/stores/classify.js';
import { redact } from '../../functions/common/redact.js';

describe('parseDbUrl', () => {
  it('reads user, password, host, port and database, defaulting the database to cloud', () => {
    expect(parseDbUrl('mysql://cloud:p%40ss@db.example:3307/cloud_prod')).toEqual({
      user: 'cloud',
      password: 'p@ss',
      host: 'db.example',
      port: 3307,
      database: 'cloud_prod',
    });
    expect(parseDbUrl('mysql://root@127.0.0.1')).toMatchObject({
      port: 3306,
      database: 'cloud',
      password: '',
    });
  });

  it.each([
    ['nonsense', /not a URL/],
    ['http://u@h/db', /scheme "http" is not mysql/],
    ['mysql://h/db', /no user/],
  ])('refuses %s without echoing a password', (url, message) => {
    expect(() => parseDbUrl(url)).toThrow(message);
  });

  it('describes a database without its password', () => {
    expect(describeDb(parseDbUrl('mysql://u:secret@h:1/d'))).toBe('mysql://u@h:1/d');
  });
});

describe('parseAuditConfig', () => {
  it('fills the defaults', () => {
    expect(parseAuditConfig({})).toMatchObject({
      gracePeriodMinutes: 60,
      stores: {},
      rules: {},
      suppressions: [],
      scan: { concurrency: 8, maxAttempts: 4 },
    });
  });

  it.each([
    [{ stores: { abc: { endpoint: 'nope' } } }, 'config: stores.abc.endpoint: expected an http(s) URL'],
    [
      { stores: { abc: { endpoint: 'minio-1:9000' } } },
      'config: stores.abc.endpoint: expected an http(s) URL',
    ],
    [
      { stores: { abc: { endpoint: 'ftp://minio:21' } } },
      'config: stores.abc.endpoint: expected an http(s) URL',
    ],
    [
      {
        suppressions: [
          { rule: 'store-unverified', store: 's', bucket: 'b', owner: 'me', expires: '2027-01-01' },
        ],
      },
      'config: suppressions.0.reason: required: say why this finding is accepted',
    ],
    [{ notify: { smtp: { host: 'mail', to: ['a@b.c'] } } }, 'config: notify.smtp.from: required (text)'],
    [{ gracePeriodMinutes: -1 }, 'config: gracePeriodMinutes:'],
    [{ rules: { 'no-such-rule': {} } }, 'config: rules: unknown rule "no-such-rule"'],
    [{ stores: { abc: { skp: true } } }, 'config: stores.abc: unknown key "skp"'],
    [
      { cloudstack: { apiUrl: 'https://cs.example/client/api', apiKey: 'AK' } },
      'config: cloudstack: apiKey and secretKey go together (or give secretId: a secret holding both)',
    ],
    [
      {
        suppressions: [
          { rule: 'store-unverified', store: 's', bucket: 'b', reason: 'r', owner: 'o', expires: 'soon' },
        ],
      },
      'config: suppressions.0.expires:',
    ],
  ])('names the path of a mistake: %j', (raw, message) => {
    expect(() => parseAuditConfig(raw)).toThrow(message);
  });
});

describe('listingFailureStatus', () => {
  it.each([
    [{ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }, 'auth_failed'],
    [{ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }, 'auth_failed'],
    [{ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }, 'unreachable'],
    [{ name: 'Error', code: 'ECONNREFUSED' }, 'unreachable'],
    [{ name: 'TimeoutError' }, 'unreachable'],
    [{ name: 'Error', $metadata: { httpStatusCode: 200 } }, 'partial'],
    [new ListingCutShortError('cut'), 'partial'],
  ])('%j is %s, never absence', (err, status) => {
    expect(listingFailureStatus(err)).toBe(status);
  });
});

describe('isStoreFault', () => {
  it.each([
    [{ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'SyntaxError', $response: { statusCode: 200 } }, true], // the SDK could not parse the store's body
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    [Object.assign(new Error('tls'), { code: 'CERT_HAS_EXPIRED' }), true],
    [Object.assign(new Error('parser'), { code: 'HPE_INVALID_CONSTANT' }), true],
    [{ name: 'TimeoutError' }, true],
    [{ name: 'AbortError' }, true],
    [new ListingCutShortError('cut'), true],
    [new TypeError("Cannot read properties of undefined (reading 'name')"), false],
    [new RangeError('Maximum call stack size exceeded'), false],
    [new SyntaxError('Unexpected token'), false],
    ['a thrown string', false],
  ])('%j is a store fault: %s; our own faults are never retried', (err, fault) => {
    expect(isStoreFault(err)).toBe(fault);
    if (!fault) expect(isRetryable(err)).toBe(false);
  });
});

describe('redact', () => {
  it('removes every known secret', () => {
    expect(redact('key AKIA123 and secret s3cr3t!', ['AKIA123', 's3cr3t!', undefined])).toBe(
      'key *** and secret ***',
    );
  });
});

describe('parseJson, the one reading of JSON text against a schema', () => {
  const schema = z.strictObject({ apiKey: z.string() });
  const problems: string[] = [];
  const fail = (problem: JsonProblem) => {
    problems.push(`${problem.kind}: ${problem.detail}`);
    return new Error(problem.detail);
  };

  it('says where the text stops being JSON, or the first issue of its shape, and never quotes the text', () => {
    problems.length = 0;
    expect(() => parseJson(schema, '{"apiKey": "hunter2-secret" "x"}', fail)).toThrow();
    expect(() => parseJson(schema, 'hunter2-secret', fail)).toThrow();
    expect(() => parseJson(schema, '{"apiKey": 1}', fail)).toThrow();
    expect(parseJson(schema, '{"apiKey": "k"}', fail)).toEqual({ apiKey: 'k' });
    expect(problems).toEqual([
      expect.stringMatching(/^not-json: not valid JSON \(at position \d+\)$/),
      'not-json: not valid JSON (the parser gives no position)',
      'shape: apiKey: Invalid input: expected string, received number',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});
