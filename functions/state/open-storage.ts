import { InvalidInputError } from '../core/errors.js';
import { FolderStorage } from './folder-storage.js';
import { S3Storage } from './s3-storage.js';
import type { StateStorage } from './storage.js';

/** `--out`: a folder, or `s3://BUCKET/PREFIX`. */
export function openStorage(out: string): StateStorage {
  if (!out.trim()) throw new InvalidInputError('--out: empty; give a folder or s3://BUCKET/PREFIX');
  return out.startsWith('s3://') ? new S3Storage(out) : new FolderStorage(out);
}
