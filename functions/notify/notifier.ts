import type { Notification } from '../core/notifications.js';

/** A channel that tells people. `deliver` returns the messages it got through; it never throws for one bad message. */
export interface Notifier {
  readonly channel: string;
  deliver(messages: Notification[]): Promise<{ sent: Notification[]; failures: string[] }>;
}
