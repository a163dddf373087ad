// CloudStack 4.20+ webhooks sign the body when the hook has a secret (WebhookDeliveryThread.java):
// X-CS-Signature = Base64(HMAC-SHA256(key = the secret's UTF-8 bytes, data = the body's bytes)).
// Checked over the raw bytes, in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function webhookSignature(secret: string, body: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('base64');
}

/** Whether the header is the body's signature under the secret. A missing header is not. */
export function signatureMatches(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(webhookSignature(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether a header is exactly the configured token (MinIO's audit webhook), in constant time. */
export function tokenMatches(token: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', 'csdrift').update(token).digest();
  const given = createHmac('sha256', 'csdrift').update(header.trim()).digest();
  return timingSafeEqual(given, expected);
}
