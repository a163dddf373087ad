// CloudStack API request signing, exactly as the management server verifies it: values encoded as
// Java's URLEncoder does (space as %20), pairs sorted by name, the whole string lower-cased, then
// HMAC-SHA1 with the secret key and Base64.
import { createHmac } from 'node:crypto';

/** Java's URLEncoder.encode(v, "UTF-8") with + as %20: it leaves only A-Z a-z 0-9 - _ . * alone. */
export function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The server signs every parameter it receives, empty ones as `name=`; undefined ones are not sent. */
export function signedQuery(
  params: Record<string, string | number | boolean | undefined>,
  secretKey: string,
): string {
  const pairs = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, encodeValue(String(v))] as const)
    .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
  const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const signature = createHmac('sha1', secretKey).update(query.toLowerCase()).digest('base64');
  return `${query}&signature=${encodeURIComponent(signature)}`;
}
