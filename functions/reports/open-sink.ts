import { InvalidInputError } from '../core/errors.js';
import { FolderSink } from './folder-sink.js';
import { S3Sink } from './s3-sink.js';
import type { ReportSink } from './sink.js';

/** `--out`: a folder, or `s3://BUCKET/PREFIX`. */
export function openSink(out: string): ReportSink {
  if (!out.trim()) throw new InvalidInputError('--out: empty; give a folder or s3://BUCKET/PREFIX');
  return out.startsWith('s3://') ? new S3Sink(out) : new FolderSink(out);
}
