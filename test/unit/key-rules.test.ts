// Keys and principals, pure: madmin's encryption against madmin-go's own test vectors, the rights a
// MinIO policy or a Ceph user's caps give over every bucket, and the three key rules on planted
// principals. The live stores are in test/integration/keys-ceph.test.ts and keys-minio.test.ts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../functions/core/evaluate.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { DbBucket, StorePrincipal } from '../../functions/core/model.js';
import { bucketWideRights } from '../../functions/core/policy-meaning.js';
import { rgwUserRights } from '../../functions/core/principal-rights.js';
import {
  MADMIN_ALGORITHMS,
  MadminDecryptError,
  decryptMadmin,
  encryptMadmin,
} from '../../functions/stores/madmin-crypto.js';
import { keyRef } from '../../functions/stores/key-ref.js';
import type { AlgorithmId } from '../../functions/stores/madmin-crypto.js';
import { aBucket, aScan, aStore, anInput, anInventory } from '../support/builders.js';
import { MINIO_POLICIES } from '../support/minio-standin.js';

// madmin-go encrypt_test.go, decryptDataTests: ciphertexts made by EncryptData (Argon2id + AES-GCM).
// All four: of no data, of 256 zero bytes, of 32 and of 256 zero bytes (encryptDataTests' inputs).
const MADMIN_VECTORS = [
  {
    password: '',
    hex: '828aa81599df0651c0461adb82283e8b89956baee9f6e719947ef9cddc849028001dc9d3ac0938f66b07bacc9751437e1985f8a9763c240e81',
    plaintext: Buffer.alloc(0),
  },
  {
    password: '',
    hex:
      '1793c71df6647860437134073c15688cbb15961dc0758c7ee1225e66e79c724c00d790dba9c671eae89da2c736d858286ac9bd027abacc6443' +
      '0375cd41b63b67c070c7fba475a8dd66ae65ba905176c48cbe6f734fc74df87343d8ccff54bada4aeb0a04bd021633ebe6c4768e23f5dea142' +
      '561d4fe3f90ed59d13dc5fb3a585dadec1742325291b9c81692bdd3420b2428127f8195e0ecd9a1c9237712ed67af7339fbbf7ff3ee1c516e1' +
      'f81e69d933e057b30997e7274a2c9698e07c39f0e8d6818858f34c8191871b5a52bea9061806bd029024bfc1d9c1f230904968d6c9e10fddcb' +
      'c006ba97356ff243570fd96df07dd6894e215a6b24c4ed730369519289ebd877aff6ccbd2265985e4ab1a2b7930bab9cfb767b97348a639ddf' +
      '8db81bf5151da7e8f3d9638a1b86eb1dd78cc6a526f10a414c78638f',
    plaintext: Buffer.alloc(256),
  },
  {
    password: 'xPl.8/rhR"Q_1xLt',
    hex:
      'b5c016e93b84b473fc8a37af94936563630c36d6df1841d23a86ee51ca161f9e00ac19116b32f643ff6a56a212b265d8c56' +
      '195bb0d12ce199e13dfdc5272f80c1564da2c6fc2fa18da91d8062de02af5cdafea491c6f3cae1f',
    plaintext: Buffer.alloc(32),
  },
  {
    password: '7h5oU4$te{;K}fgqlI^]',
    hex:
      'c58edf7cfd557b6b655de6f48b1a3049d8d049dadb3a7bfa9ac9ccbb5baf37ec00f83086a26f43b7d6bc9075ad0' +
      '38bf5741f118d502ebe94165e4072ba7f98535d6b1e3b6ae67a98115d146d9b4d90e4df4ae82df9cfa17ed7cd42' +
      '465181559f7ddf09c98beec521bb4478e0cb73c4e0827af8688ff4e7a07327a10d5a180035e6ddb16d974a85257' +
      '981cd9e0360a20f7b4d653190267dfb241148f018ae180568042e864b9e1b5bc05425a3abc2b0324f50c72d5679' +
      '8f924405dfc0f8523f4bb564ed65af8e1b1c82a7a0640552ecf81985d95d0993d99172592ddc1393dfa63e8f0b3' +
      'd744b2cc4b73384ca4693f0c1aec0e9b00e85f2937e891105d67da8f59c14ca96608e0425c42f9c1e7c2a8b3413' +
      'e1381784f9cfe01de7c47cea1f8d7a7d88f5d4aca783cf55332b47f957a6b9a65269d7eb606b877b',
    plaintext: Buffer.alloc(256),
  },
];

const { consoleAdmin: CONSOLE_ADMIN, readwrite: READ_WRITE, readonly: READ_ONLY } = MINIO_POLICIES;

describe("madmin's encrypted answers", () => {
  it("decrypt madmin-go's own test vectors", async () => {
    for (const v of MADMIN_VECTORS)
      expect(await decryptMadmin(v.password, Buffer.from(v.hex, 'hex'))).toEqual(v.plaintext);
  }, 60_000);

  it('read what each of the three algorithms seals, over several 16 KiB fragments and on a fragment boundary', async () => {
    // Each derivation is Argon2id over 64 MiB: a handful of cases, not a grid.
    const cases: [AlgorithmId, number][] = [
      [MADMIN_ALGORITHMS.argon2idAesGcm, 16384],
      [MADMIN_ALGORITHMS.argon2idChaCha20Poly1305, 40000],
      [MADMIN_ALGORITHMS.pbkdf2AesGcm, 0],
      [MADMIN_ALGORITHMS.pbkdf2AesGcm, 16385],
    ];
    for (const [id, size] of cases) {
      const plain = Buffer.alloc(size, id + 1);
      const sealed = await encryptMadmin('the-secret', plain, Buffer.alloc(32, 7), Buffer.alloc(8, 9), id);
      expect(sealed.length).toBe(41 + size + 16 * Math.max(1, Math.ceil(size / 16384)));
      expect(await decryptMadmin('the-secret', sealed)).toEqual(plain);
    }
  }, 60_000);

  it('refuse another secret, an altered byte, a cut body and an unknown algorithm, naming no secret', async () => {
    const sealed = await encryptMadmin(
      'the-secret',
      Buffer.from('{"acs-x":{}}'),
      Buffer.alloc(32, 1),
      Buffer.alloc(8, 2),
    );
    const altered = Buffer.from(sealed);
    altered.writeUInt8(altered.readUInt8(altered.length - 3) ^ 1, altered.length - 3);
    const unknown = Buffer.from(sealed);
    unknown[32] = 9;
    for (const [password, data] of [
      ['another', sealed],
      ['the-secret', altered],
      ['the-secret', sealed.subarray(0, 45)],
      ['the-secret', unknown],
    ] as const) {
      const err = await decryptMadmin(password, data).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MadminDecryptError);
      expect(String(err)).not.toContain('the-secret');
    }
  }, 60_000);
});

describe('rights over every bucket', () => {
  it("MinIO: consoleAdmin and readwrite can delete any bucket; readonly and CloudStack's per-account policy cannot", () => {
    expect(bucketWideRights(CONSOLE_ADMIN)).toEqual(
      expect.arrayContaining(['s3:DeleteBucket', 's3:PutBucketPolicy', 'admin:CreateUser']),
    );
    expect(bucketWideRights(JSON.stringify(READ_WRITE))).toContain('s3:DeleteBucket');
    expect(bucketWideRights(READ_WRITE)).not.toContain('admin:CreateUser');
    expect(bucketWideRights(READ_ONLY)).toEqual([]);
    const perAccount = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:*'],
          Resource: ['arn:aws:s3:::alice-data/*', 'arn:aws:s3:::alice-data'],
        },
      ],
    };
    expect(bucketWideRights(perAccount)).toEqual([]);
  });

  it('MinIO: an unconditional Deny takes a right away; a conditional Allow is said to be one', () => {
    const denied = {
      Statement: [
        ...READ_WRITE.Statement,
        { Effect: 'Deny', Action: ['s3:DeleteBucket', 's3:ForceDeleteBucket'], Resource: ['arn:aws:s3:::*'] },
      ],
    };
    expect(bucketWideRights(denied)).not.toContain('s3:DeleteBucket');
    expect(bucketWideRights(denied)).toContain('s3:PutBucketPolicy');
    const fromOffice = {
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:DeleteBucket',
          Resource: '*',
          Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
        },
      ],
    };
    expect(bucketWideRights(fromOffice)).toEqual(['s3:DeleteBucket (under a condition)']);
    expect(() => bucketWideRights('{not json')).toThrow(/not valid JSON/);
  });

  it('Ceph: write caps on buckets, users or metadata, the system and admin flags; read caps are not', () => {
    expect(rgwUserRights({ caps: [{ type: 'buckets', perm: '*' }], system: false, admin: false })).toEqual([
      'caps buckets=*',
    ]);
    expect(
      rgwUserRights({
        caps: [
          { type: 'users', perm: 'read, write' },
          { type: 'usage', perm: '*' },
        ],
        system: true,
        admin: true,
      }),
    ).toEqual([
      'system user (passes every permission check)',
      'admin flag (every admin ops call)',
      'caps users=read, write',
    ]);
    expect(
      rgwUserRights({
        caps: [
          { type: 'buckets', perm: 'read' },
          { type: 'metadata', perm: 'read' },
        ],
        system: false,
        admin: false,
      }),
    ).toEqual([]);
  });
});

const digest = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 32);

function user(name: string, more: Partial<StorePrincipal> = {}): StorePrincipal {
  return { kind: 'user', name, enabled: true, keys: [keyRef(name, true)], rights: [], ...more };
}

function run(
  provider: 'MinIO' | 'Ceph',
  buckets: DbBucket[],
  principals: StorePrincipal[],
  config: Record<string, unknown> = {},
  accounts = anInventory(buckets).accounts ?? [],
) {
  const store = aStore({ provider });
  const input = anInput(
    buckets,
    aScan(
      buckets.map((b) => b.name),
      { principals: { value: { principals } } },
    ),
    {
      config: parseAuditConfig(config),
      rules: ['store-admin-bypass', 'store-user-orphaned', 'bucket-credentials-stale'],
    },
  );
  return evaluate({ ...input, inventory: { ...anInventory(buckets, [store]), accounts } });
}

describe('store-admin-bypass', () => {
  it("reports each principal but CloudStack's own and the allowed ones, with its rights and enabled keys", () => {
    const { findings, coverage } = run(
      'MinIO',
      [],
      [
        user('cloudstack-admin', { rights: ['s3:DeleteBucket'], cloudstack: true }),
        user('ops', { rights: ['s3:DeleteBucket', 'admin:CreateUser'], policies: ['consoleAdmin'] }),
        user('backup', { rights: ['s3:DeleteBucket'] }),
        user('gone', { rights: ['s3:DeleteBucket'], enabled: false }),
        user('reader', { rights: [] }),
        {
          kind: 'group',
          name: 'admins',
          enabled: true,
          keys: [],
          rights: ['s3:DeleteBucket'],
          members: ['ops'],
          policies: ['readwrite'],
        },
        { kind: 'group', name: 'empty', enabled: true, keys: [], rights: ['s3:DeleteBucket'], members: [] },
      ],
      { rules: { 'store-admin-bypass': { allowed: ['backup'] } } },
    );
    expect(findings.map((f) => `${f.rule} ${String(f.evidence.principal)}`).sort()).toEqual([
      'store-admin-bypass admins',
      'store-admin-bypass ops',
    ]);
    const ops = findings.find((f) => f.evidence.principal === 'ops');
    expect(ops?.message).toContain('MinIO user ops on store minio-1 can delete or reconfigure any bucket');
    expect(ops?.evidence).toMatchObject({
      rights: ['s3:DeleteBucket', 'admin:CreateUser'],
      enabledKeys: ['…ops'],
    });
    expect(ops?.remediation.steps[0]).toContain('mc admin policy detach ALIAS consoleAdmin --user ops');
    expect(coverage[0]?.checks['store-admin-bypass']).toBe('verified');
  });

  it('is unverified when the users could not be read, not applicable when refused or on a provider it cannot list', () => {
    const bucket = aBucket('data');
    const input = anInput(
      [bucket],
      aScan(['data'], { principals: { error: 'the store answered HTTP 500' } }),
      {
        rules: ['store-admin-bypass'],
      },
    );
    expect(evaluate(input).coverage[0]?.checks['store-admin-bypass']).toBe('unverified');
    const refused = anInput(
      [bucket],
      aScan(['data'], { principals: { value: { principals: [], refused: 'needs caps' } } }),
      {
        rules: ['store-admin-bypass'],
      },
    );
    expect(evaluate(refused).coverage[0]).toMatchObject({
      checks: { 'store-admin-bypass': 'not_applicable' },
      evidence: { checkNotes: { 'store-admin-bypass': 'needs caps' } },
    });
    const generic = { ...anInput([bucket], aScan(['data']), { rules: ['store-admin-bypass'] }) };
    generic.inventory = anInventory([bucket], [aStore({ provider: 'Cloudian' })]);
    expect(evaluate(generic).coverage[0]?.checks['store-admin-bypass']).toBe('not_applicable');
  });
});

describe('store-user-orphaned', () => {
  const gone = { uuid: '0b7a4c1e-1111-4a4a-8a8a-000000000001', name: 'carol', removed: true };
  const live = { uuid: '0b7a4c1e-1111-4a4a-8a8a-000000000002', name: 'dave', removed: false };

  it("Ceph: a uid of a removed account or of no account, with its keys and buckets; a live account's is fine", () => {
    const unknown = '0b7a4c1e-1111-4a4a-8a8a-0000000000ff';
    const input = run(
      'Ceph',
      [],
      [user(gone.uuid), user(live.uuid), user(unknown, { keys: [] }), user('ops-person')],
      {},
      [gone, live],
    );
    expect(input.findings.map((f) => String(f.evidence.user))).toEqual([gone.uuid]);
    const f = input.findings[0];
    expect(f?.message).toContain(`belongs to account carol (${gone.uuid}), removed`);
    expect(f?.remediation.steps[0]).toContain(`radosgw-admin user suspend --uid=${gone.uuid}`);
  });

  it('MinIO: acs-<uuid> and the old acs-<name>, matched to accounts by uuid and by name', () => {
    const { findings } = run(
      'MinIO',
      [],
      [user(`acs-${gone.uuid}`), user('acs-dave'), user('acs-erin'), user('acs-carol', { enabled: false })],
      {},
      [gone, live],
    );
    expect(findings.map((f) => String(f.evidence.user)).sort()).toEqual([`acs-${gone.uuid}`, 'acs-erin']);
    expect(findings.find((f) => f.evidence.user === 'acs-erin')?.message).toContain(
      'an account named erin this CloudStack does not have',
    );
  });
});

describe('bucket-credentials-stale', () => {
  const owner = {
    accountUuid: '0b7a4c1e-2222-4a4a-8a8a-000000000001',
    accountName: 'alice',
    domainUuid: 'd',
    domainPath: '/',
  };
  const row = (name: string, key: string) =>
    aBucket(name, { owner, accessKey: { digest: digest(key), last4: key.slice(-4) } });

  it("Ceph: a row key that is not among the owner's keys, disabled, or another user's; a live key is fine", () => {
    const { findings } = run(
      'Ceph',
      [
        row('fine', 'AKLIVE0001'),
        row('rotated', 'AKOLD00002'),
        row('borrowed', 'AKOTHER003'),
        row('off', 'AKOFF00004'),
      ],
      [
        user(owner.accountUuid, { keys: [keyRef('AKLIVE0001', true), keyRef('AKOFF00004', false)] }),
        user('someone', { keys: [keyRef('AKOTHER003', true)] }),
      ],
    );
    const byBucket = Object.fromEntries(findings.map((f) => [f.bucket, String(f.evidence.reason)]));
    expect(Object.keys(byBucket).sort()).toEqual(['borrowed', 'off', 'rotated']);
    expect(byBucket.rotated).toContain(
      `no user of the store has this key; the owner's ${owner.accountUuid} has …0001`,
    );
    expect(byBucket.borrowed).toContain('belongs to store user someone');
    expect(byBucket.off).toContain('the key is disabled');
    const text = JSON.stringify(findings);
    expect(text).not.toContain('AKOLD00002');
    expect(text).toContain('…0002');
  });

  it('Ceph, 5,000 users and 20,000 rows: every owner found among them, the one key another user holds named', () => {
    // The owner lookup is an index by user name (it searched every user for each row before).
    const uuid = (i: number) => `0b7a4c1e-3333-4a4a-8a8a-${String(i).padStart(12, '0')}`;
    const users = Array.from({ length: 5000 }, (_, i) => user(uuid(i), { keys: [keyRef(`AK${i}`, true)] }));
    const rows = Array.from({ length: 20_000 }, (_, j) => {
      const i = j % 5000;
      const key = j === 12_345 ? 'AK7' : `AK${i}`;
      return aBucket(`b-${j}`, {
        owner: { ...owner, accountUuid: uuid(i), accountName: `tenant-${i}` },
        accessKey: { digest: digest(key), last4: key.slice(-4) },
      });
    });
    const { findings } = run('Ceph', rows, users);
    expect(findings.map((f) => `${f.bucket}: ${String(f.evidence.reason)}`)).toEqual([
      `b-12345: the key belongs to store user ${uuid(7)}, not to the owner's ${uuid(2345)}`,
    ]);
  });

  it("MinIO: the user itself or its service account is live; a suspended owner's key is not", () => {
    const suspended = { ...owner, accountUuid: '0b7a4c1e-2222-4a4a-8a8a-000000000009', accountName: 'bob' };
    const { findings } = run(
      'MinIO',
      [
        row('own', `acs-${owner.accountUuid}`),
        row('svc', 'SVCACCOUNTKEY0001'),
        aBucket('bobs', {
          owner: suspended,
          accessKey: { digest: digest(`acs-${suspended.accountUuid}`), last4: 'xxxx' },
        }),
      ],
      [
        user(`acs-${owner.accountUuid}`, {
          keys: [keyRef(`acs-${owner.accountUuid}`, true), keyRef('SVCACCOUNTKEY0001', true)],
        }),
        user(`acs-${suspended.accountUuid}`, {
          enabled: false,
          keys: [keyRef(`acs-${suspended.accountUuid}`, false)],
        }),
      ],
    );
    expect(findings.map((f) => `${f.rule} ${f.bucket}`)).toEqual(['bucket-credentials-stale bobs']);
    expect(findings[0]?.evidence.reason).toContain('is suspended');
  });
});
