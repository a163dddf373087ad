// Lines out of a byte stream (MinIO's notification stream, RGW's ops log socket), each at most
// `maxBytes`: a peer that sends a line without end is cut off at the cap, counted, and its stream
// reset by the caller, instead of being buffered until the process runs out of memory.
import type { Readable } from 'node:stream';

/** The same cap as the ops log file's lines. */
export const MAX_LINE_BYTES = 64 * 1024;

export function followLines(
  stream: Readable,
  onLine: (line: string) => void,
  onOverlong: () => void,
  maxBytes = MAX_LINE_BYTES,
): void {
  let partial: Buffer[] = [];
  let size = 0;
  let over = false;
  stream.on('data', (chunk: Buffer) => {
    if (over) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (size + (end - start) > maxBytes) {
        over = true; // the stream is reset by the caller; nothing more of it is read
        partial = [];
        onOverlong();
        return;
      }
      // A piece kept past this chunk is copied: a slice would keep the whole chunk alive with it.
      partial.push(nl < 0 ? Buffer.from(chunk.subarray(start, end)) : chunk.subarray(start, end));
      size += end - start;
      if (nl < 0) return;
      const line = Buffer.concat(partial).toString('utf8').replace(/\r$/, '');
      partial = [];
      size = 0;
      onLine(line);
      start = nl + 1;
    }
  });
}
