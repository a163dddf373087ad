import { FolderSink } from './folder-sink.js';
import { S3Sink } from './s3-sink.js';
import type { ReportSink } from './sink.js';

/** `--out`: a folder, or `s3://BUCKET/PREFIX`. */
export function openSink(out: string): ReportSink {
  return out.startsWith('s3://') ? new S3Sink(out) : new FolderSink(out);
}
