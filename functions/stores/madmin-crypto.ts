// MinIO's admin API answers its user and access-key listings encrypted with the requesting admin's
// secret key, as madmin-go's EncryptData writes them (encrypt.go):
//
//   salt (32) | algorithm id (1) | nonce (8) | sio-go DARE stream
//
// The key is Argon2id(password, salt, t=1, m=64 MiB, p=4, 32 bytes) for ids 0 (AES-256-GCM) and 1
// (ChaCha20-Poly1305), or PBKDF2-SHA256(password, salt, 8192, 32 bytes) for id 2 (AES-256-GCM, FIPS).
// The stream (secure-io/sio-go, sio.go and reader.go) seals 16 KiB fragments; fragment i (from 1) has
// the nonce `nonce | uint32le(i)` and the associated data `flag | tag0`, where tag0 is the AEAD's tag
// of nothing under nonce `nonce | 0`, and flag is 0x80 on the last fragment and 0x00 on the others.
// Tested against madmin-go's own test vectors (test/unit/madmin-crypto.test.ts).
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { createCipheriv, createDecipheriv, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { NotTheDocumentError } from './classify.js';

const HEADER = 32 + 1 + 8;
const FRAGMENT = 1 << 14;
const TAG = 16;
export const MADMIN_ALGORITHMS = { argon2idAesGcm: 0, argon2idChaCha20Poly1305: 1, pbkdf2AesGcm: 2 } as const;
export type AlgorithmId = (typeof MADMIN_ALGORITHMS)[keyof typeof MADMIN_ALGORITHMS];

/** madmin-go's parameters (encrypt.go): Argon2id's cost is fixed, so every answer costs one derivation. */
const ARGON2ID = { t: 1, m: 64 * 1024, p: 4, dkLen: 32 } as const;
const PBKDF2_COST = 8192;

const pbkdf2Async = promisify(pbkdf2);

/** The AEAD behind an algorithm id: Node's own AES-256-GCM and ChaCha20-Poly1305 (12-byte nonces). */
function aeadName(id: AlgorithmId): 'aes-256-gcm' | 'chacha20-poly1305' {
  return id === MADMIN_ALGORITHMS.argon2idChaCha20Poly1305 ? 'chacha20-poly1305' : 'aes-256-gcm';
}

export async function madminKey(password: string, salt: Uint8Array, id: AlgorithmId): Promise<Buffer> {
  if (id === MADMIN_ALGORITHMS.pbkdf2AesGcm) return pbkdf2Async(password, salt, PBKDF2_COST, 32, 'sha256');
  // Memory-hard by design (64 MiB): the async form yields to the event loop while it works.
  return Buffer.from(await argon2idAsync(password, salt, { ...ARGON2ID, asyncTick: 20 }));
}

function cipherOf(name: ReturnType<typeof aeadName>, key: Buffer, iv: Buffer) {
  return name === 'aes-256-gcm'
    ? createCipheriv(name, key, iv, { authTagLength: TAG })
    : createCipheriv(name, key, iv, { authTagLength: TAG });
}

function decipherOf(name: ReturnType<typeof aeadName>, key: Buffer, iv: Buffer) {
  return name === 'aes-256-gcm'
    ? createDecipheriv(name, key, iv, { authTagLength: TAG })
    : createDecipheriv(name, key, iv, { authTagLength: TAG });
}

function nonceFor(nonce: Buffer, seq: number): Buffer {
  const full = Buffer.alloc(12);
  nonce.copy(full, 0);
  full.writeUInt32LE(seq, 8);
  return full;
}

/** The tag of nothing under sequence 0: bound into every fragment's associated data. */
function headerTag(name: ReturnType<typeof aeadName>, key: Buffer, nonce: Buffer): Buffer {
  const cipher = cipherOf(name, key, nonceFor(nonce, 0));
  cipher.final();
  return cipher.getAuthTag();
}

/** An encrypted answer that does not decrypt: no answer at all, like any other unreadable document. */
export class MadminDecryptError extends NotTheDocumentError {
  override name = 'MadminDecryptError';
}

/**
 * The plaintext of an encrypted admin answer. A wrong password, a cut or altered body, or an unknown
 * algorithm throws MadminDecryptError (never a partial plaintext).
 */
export async function decryptMadmin(password: string, data: Buffer): Promise<Buffer> {
  if (data.length < HEADER + TAG)
    throw new MadminDecryptError('the encrypted admin answer is shorter than its header');
  const salt = data.subarray(0, 32);
  const id = data[32] as number;
  const nonce = data.subarray(33, HEADER);
  if (!Object.values(MADMIN_ALGORITHMS).includes(id as AlgorithmId))
    throw new MadminDecryptError(`the encrypted admin answer names an unknown algorithm (${id})`);
  const name = aeadName(id as AlgorithmId);
  const key = await madminKey(password, salt, id as AlgorithmId);
  const tag0 = headerTag(name, key, nonce);
  const body = data.subarray(HEADER);
  const sealed = FRAGMENT + TAG;
  const plain: Buffer[] = [];
  let seq = 1;
  for (let at = 0; ; seq++) {
    // A fragment is last when no byte follows it: it may be full (sio-go peeks one byte ahead).
    const last = body.length - at <= sealed;
    const fragment = body.subarray(at, last ? body.length : at + sealed);
    if (fragment.length < TAG) throw new MadminDecryptError('the encrypted admin answer is cut short');
    const decipher = decipherOf(name, key, nonceFor(nonce, seq));
    decipher.setAAD(Buffer.concat([Buffer.from([last ? 0x80 : 0x00]), tag0]));
    decipher.setAuthTag(fragment.subarray(fragment.length - TAG));
    try {
      plain.push(decipher.update(fragment.subarray(0, fragment.length - TAG)), decipher.final());
    } catch {
      throw new MadminDecryptError(
        'the encrypted admin answer does not decrypt with the store keys (another secret key, or altered)',
      );
    }
    if (last) break;
    at += sealed;
  }
  return Buffer.concat(plain);
}

/**
 * EncryptData's output for `plaintext`, with the salt and nonce given: what a MinIO server sends. Used
 * by the tests' MinIO stand-in; the auditor itself never encrypts.
 */
export async function encryptMadmin(
  password: string,
  plaintext: Buffer,
  salt: Buffer,
  nonce: Buffer,
  id: AlgorithmId = MADMIN_ALGORITHMS.argon2idAesGcm,
): Promise<Buffer> {
  const name = aeadName(id);
  const key = await madminKey(password, salt, id);
  const tag0 = headerTag(name, key, nonce);
  const out: Buffer[] = [salt, Buffer.from([id]), nonce];
  let seq = 1;
  for (let at = 0; ; seq++) {
    const last = plaintext.length - at <= FRAGMENT;
    const chunk = plaintext.subarray(at, last ? plaintext.length : at + FRAGMENT);
    const cipher = cipherOf(name, key, nonceFor(nonce, seq));
    cipher.setAAD(Buffer.concat([Buffer.from([last ? 0x80 : 0x00]), tag0]));
    out.push(cipher.update(chunk), cipher.final(), cipher.getAuthTag());
    if (last) break;
    at += FRAGMENT;
  }
  return Buffer.concat(out);
}
