// Which names a targeted audit may ask about. Lenient on purpose (RGW allows relaxed names and
// tenant:bucket), strict only where a name could not be a bucket's at all.

/** Longer than any store allows a bucket name (S3: 63; RGW's relaxed names: 255, plus a tenant). */
export const MAX_BUCKET_NAME_BYTES = 512;
// eslint-disable-next-line no-control-regex -- control characters are what makes a name unusable
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why no bucket can have this name, or undefined when one can. */
export function bucketNameProblem(name: string): string | undefined {
  if (!name) return 'empty; give a bucket name';
  if (Buffer.byteLength(name) > MAX_BUCKET_NAME_BYTES)
    return `longer than ${MAX_BUCKET_NAME_BYTES} bytes: no store has such a bucket`;
  if (CONTROL.test(name)) return 'holds control characters: no store has such a bucket';
  if (name.includes('/')) return 'holds "/": no store has such a bucket';
  return undefined;
}
