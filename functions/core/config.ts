// The config file's schema (docs/contract.md, "Config file"). Unknown keys are errors so that a
// typo fails loudly.
import * as z from 'zod';
import { ConfigError } from './errors.js';
import { SEVERITIES } from './model.js';
import type { RuleId } from './model.js';
import { RULES, RULE_IDS } from './rules/index.js';
import type { RuleOptionsOf } from './rules/index.js';
import { COMMON_RULE_OPTIONS, REMEDIATION_OPTIONS } from './rules/options.js';
import { parseAt } from './validation.js';

/** An address csdrift will contact: http or https only (`minio-1:9000` parses as a URL of scheme "minio-1"). */
const httpUrl = (example: string) =>
  z.url({ protocol: /^https?$/, message: `expected an http(s) URL, such as ${example}` });

const storeOverride = z.strictObject({
  endpoint: httpUrl('https://minio-1.internal:9000').optional(),
  accessKey: z.string().min(1).optional(),
  secretKey: z.string().min(1).optional(),
  caBundle: z.string().min(1).optional(),
  skip: z.boolean().optional(),
});

function optionsOf(id: RuleId) {
  return z.strictObject({
    ...COMMON_RULE_OPTIONS,
    ...(RULES[id].remediation ? REMEDIATION_OPTIONS : {}),
    ...RULES[id].options,
  });
}

/** The options a rule takes, for the error that names one it does not. */
export function ruleOptionNames(id: RuleId): string[] {
  return Object.keys(optionsOf(id).shape);
}

const ruleOptionsSchema = z.strictObject(
  Object.fromEntries(RULE_IDS.map((id) => [id, optionsOf(id).optional()])) as {
    [K in RuleId]: z.ZodOptional<ReturnType<typeof optionsOf>>;
  },
);

const suppression = z.strictObject({
  rule: z.enum(RULE_IDS),
  store: z.string().min(1),
  bucket: z.string().min(1),
  reason: z
    .string({ message: 'required: say why this finding is accepted' })
    .min(1, { message: 'required: say why this finding is accepted' }),
  owner: z
    .string({ message: 'required: who answers for this suppression' })
    .min(1, { message: 'required: who answers for this suppression' }),
  expires: z.union([z.iso.date(), z.iso.datetime()], { message: 'expected a date, YYYY-MM-DD' }),
  match: z.enum(['exact', 'glob']).default('exact'),
});

/** `host:port` to listen on. */
const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
  message: 'expected HOST:PORT, such as 127.0.0.1:9464',
});

const watchSchema = z.strictObject({
  /** GET /healthz, GET /metrics, POST /events/cloudstack, POST /events/minio. */
  listen: listenAddress.default('127.0.0.1:9464'),
  /** Events for one bucket within this many seconds make one targeted audit. */
  debounceSeconds: z.number().min(0).max(3600).default(10),
  /**
   * Events handed over and not yet audited, at most: above it every source pauses (the backlog waits
   * in the broker, the log file, the table, the spool on disk) and resumes below half of it.
   */
  maxPendingEvents: z.number().int().min(10).max(1_000_000).default(10_000),
  /** At most this many buckets in one targeted audit: a storm becomes a few batches, not a thousand runs. */
  maxBucketsPerAudit: z.number().int().min(1).max(10_000).default(500),
  /**
   * Where the watcher keeps webhook deliveries until audited, and the event table's cursor. Default:
   * `watch-state` in the --out folder; required when --out is s3://.
   */
  stateDir: z.string().min(1).optional(),
  /** Targeted audits running at once. */
  concurrentAudits: z.number().int().min(1).max(16).default(2),
  /** The full audit from the same process, on a cron schedule: the safety net for lost events. */
  fullAudit: z
    .strictObject({ cron: z.string().min(1), timeZone: z.string().min(1).default('UTC') })
    .optional(),
  cloudstack: z
    .strictObject({
      /** CloudStack's RabbitMQ event bus: our own durable queue, bound to the bucket event keys. */
      amqp: z
        .strictObject({
          url: z.string().regex(/^amqps?:\/\//, { message: 'expected amqp://USER:PASSWORD@HOST:5672/VHOST' }),
          exchange: z.string().min(1).default('cloudstack-events'),
          queue: z.string().min(1).default('csdrift-watch'),
        })
        .optional(),
      /**
       * The secret of CloudStack 4.20+ webhooks: X-CS-Signature is checked with it (or
       * webhookSecretFile, or webhookSecretId: a Secrets Manager secret holding it as a plain string).
       */
      webhookSecret: z.string().min(1).optional(),
      /** Read cloud.event rows of bucket events every this many seconds (needs SELECT on cloud.event). */
      pollEventsSeconds: z.number().int().min(1).max(3600).optional(),
    })
    .optional(),
  /** Ceph RGW ops logs, by store (uuid, id or name): the file (rgw_ops_log_file_path) or the unix socket. */
  opsLogs: z.record(z.string().min(1).max(255), z.string().min(1).max(4096)).optional(),
  /** MinIO's own feeds. */
  minio: z
    .strictObject({
      /** The Authorization value MinIO's audit webhook sends to POST /events/minio, compared as-is. */
      authToken: z.string().min(1).optional(),
      /** Follow each MinIO store's bucket create/remove notifications (ListenNotification, its admin keys). */
      listen: z.boolean().default(false),
    })
    .optional(),
});
export type WatchConfig = z.infer<typeof watchSchema>;

export const auditConfigSchema = z.strictObject({
  db: z.strictObject({ url: z.string().min(1) }).optional(),
  /** The usage server's database (`cloud_usage`), read-only and optional: the usage recorded for ghost-billed buckets. */
  usageDb: z.strictObject({ url: z.string().min(1) }).optional(),
  stores: z.record(z.string(), storeOverride).default({}),
  gracePeriodMinutes: z.number().int().min(0).default(60),
  rules: ruleOptionsSchema.default({}),
  suppressions: z.array(suppression).default([]),
  notify: z
    .strictObject({
      snsTopicArn: z.string().min(1).optional(),
      /** Or slackWebhookUrlFile, or slackWebhookSecretId: a secret holding the URL (or JSON with "url"). */
      slackWebhookUrl: httpUrl('https://hooks.slack.com/services/…').optional(),
      minSeverity: z.enum(SEVERITIES).optional(),
      /** One "investigate this store" task instead of many when a store has more new findings than this… */
      breakerFindings: z.number().int().min(1).optional(),
      /** …or (with at least 5) more than this percentage of its buckets. */
      breakerPercent: z.number().min(0).max(100).optional(),
      /** Email through the operator's own SMTP server, for runs outside AWS. */
      smtp: z
        .strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(587),
          /** starttls (587), implicit (465), or none (a relay on the same host only). */
          tls: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
          user: z.string().min(1).optional(),
          /** The password, read from this file (a systemd credential, a secret volume): never in the config. */
          passwordFile: z.string().min(1).optional(),
          /** A PEM file of the CA that signed the server's certificate, for a private CA. */
          caFile: z.string().min(1).optional(),
          from: z.string().min(3),
          to: z.array(z.string().min(3)).min(1),
        })
        .refine((s) => !s.user || s.passwordFile, { message: 'user needs passwordFile' })
        .optional(),
      /** Slack's interactivity: with a signing secret (or signingSecretFile, signingSecretId), tasks carry buttons. */
      slack: z
        .strictObject({
          /** The Slack app's signing secret (Basic Information, App Credentials): checks each click's signature. */
          signingSecret: z.string().min(1).optional(),
        })
        .optional(),
    })
    .optional(),
  /** Fixes without a terminal: self-healing of the seed case and the Slack approvers. */
  remediation: z
    .strictObject({
      auto: z
        .strictObject({
          /** Complete a failed deleteBucket whose bucket the store confirms gone (apache/cloudstack#10410). */
          failedDeletes: z.boolean().default(false),
          /** Per store; past it, tasks as before. */
          maxPerHour: z.number().int().min(1).max(1000).default(10),
          /** Say what would be done, do nothing. */
          dryRun: z.boolean().default(false),
        })
        .default({ failedDeletes: false, maxPerHour: 10, dryRun: false }),
      /** Slack user ids (U…, W…) allowed to press Fix, Suppress 30 days and Not drift. */
      approvers: z
        .array(
          z.string().regex(/^[UW][A-Z0-9]{2,20}$/, { message: 'expected a Slack user id such as U024BE7LH' }),
        )
        .default([]),
    })
    .default({ auto: { failedDeletes: false, maxPerHour: 10, dryRun: false }, approvers: [] }),
  /** The CloudStack API, for csdrift remediate --apply: a root admin's keys. */
  cloudstack: z
    .strictObject({
      apiUrl: httpUrl('https://cloudstack.internal:8080/client/api'),
      apiKey: z.string().min(1).optional(),
      secretKey: z.string().min(1).optional(),
    })
    .refine((c) => Boolean(c.apiKey) === Boolean(c.secretKey), {
      message: 'apiKey and secretKey go together (or give secretId: a secret holding both)',
    })
    .optional(),
  /** What a GiB stored for a month costs, to put a price on the data at stake (summary.monthlyCost). */
  pricing: z
    .strictObject({
      perGiBMonth: z.number().min(0),
      currency: z.string().regex(/^[A-Z]{3}$/, { message: 'expected an ISO 4217 code such as EUR' }),
    })
    .optional(),
  /** Continuous mode (csdrift watch): where change events come from and how they become audits. */
  watch: watchSchema.optional(),
  /** How hard the auditor may press on each store. */
  scan: z
    .strictObject({
      concurrency: z.number().int().min(1).max(64).default(8),
      requestTimeoutMs: z.number().int().min(100).default(10_000),
      maxAttempts: z.number().int().min(1).max(10).default(4),
      /**
       * Off by default: a stock Ceph RGW (beast without tcp_nodelay=1) answers every GET on a reused
       * connection 40 ms late (Nagle against delayed ACK), where a fresh one costs one round trip.
       */
      keepAlive: z.boolean().default(false),
      /**
       * How long one store's whole scan may take before it is `partial`; by default 5 minutes plus
       * 50 ms for each bucket CloudStack records there. A store that trickles its answer for ever
       * must not keep every other store's report waiting.
       */
      storeDeadlineSeconds: z.number().int().min(1).optional(),
      /**
       * A listing of more buckets than this is not read on: the store is `partial`. The listing is
       * spilled in shards, never held; a store of more than a million buckets raises it.
       */
      maxBuckets: z.number().int().min(1).default(1_000_000),
      /**
       * Into how many shards each store's names are split, each judged alone (listed, read and paired
       * a shard at a time, the rest spilled to the OS temp folder): what bounds the audit's memory.
       * `auto`: one shard per 5,000 of the store's rows (a store of fewer is one shard, in memory).
       */
      shards: z.union([z.literal('auto'), z.number().int().min(1).max(100_000)]).default('auto'),
      /**
       * Nightly cost proportional to change: a bucket whose listing identity (RGW: bucket id and
       * mtime) is what it was at its last verified read keeps that read of the attributes the identity
       * covers (its findings say when: evidence.verifiedAt). Needs a state folder or prefix (--out).
       */
      incremental: z.boolean().default(false),
      /** Every bucket is read in full at least this often, whatever its identity says. */
      fullVerifyDays: z.number().int().min(1).max(365).default(7),
      maxBodyMiB: z.number().int().min(1).default(256),
    })
    .default({
      concurrency: 8,
      requestTimeoutMs: 10_000,
      maxAttempts: 4,
      keepAlive: false,
      maxBuckets: 1_000_000,
      shards: 'auto',
      incremental: false,
      fullVerifyDays: 7,
      maxBodyMiB: 256,
    }),
});

/** `rules:` as the engine reads it: each rule's options, typed from and checked by its own schema. */
export type RulesConfig = { [Id in RuleId]?: RuleOptionsOf<Id> };

export type AuditConfig = Omit<z.infer<typeof auditConfigSchema>, 'rules'> & {
  rules: RulesConfig;
};
export type StoreOverride = z.infer<typeof storeOverride>;

/** Validates a parsed config; the first problem becomes one line naming its path. */
export function parseAuditConfig(raw: unknown, source = 'config'): AuditConfig {
  return parseAt(auditConfigSchema, raw ?? {}, source, (m, o) => new ConfigError(m, o), {
    unknownKeys: (path, keys) => {
      if (path === 'rules') return `unknown rule ${keys} (known: ${RULE_IDS.join(', ')})`;
      const rule = /^rules\.(.+)$/.exec(path)?.[1] as RuleId | undefined;
      if (rule && RULE_IDS.includes(rule))
        return `${rule} does not take ${keys} (it takes ${ruleOptionNames(rule).join(', ')})`;
      return undefined;
    },
  }) as AuditConfig;
}
