// `csdrift validate --config FILE [--connect]`: the config checked exactly as a run checks it (its
// files and secrets resolved, the watch section as `watch` checks it), with nothing audited. With
// --connect, the database is read (its stores, with the config's overrides applied) and each store
// is asked one cheap question: a HeadBucket of a name no one uses, which a reachable store with
// working keys answers 404.
import { randomBytes } from 'node:crypto';
import { applyStoreOverrides } from '../audit.js';
import { describeDb } from '../cloudstack/db-url.js';
import { loadStores } from '../cloudstack/inventory.js';
import { redact } from '../common/redact.js';
import type { AuditConfig } from '../core/config.js';
import { endpointProblem } from '../core/endpoint.js';
import { ConfigError, InvalidInputError } from '../core/errors.js';
import { actionsSetup } from '../core/actions.js';
import type { StoreRecord } from '../core/model.js';
import { EXIT } from '../core/report.js';
import { RULE_LIST } from '../core/rules/index.js';
import { visible } from '../core/shell.js';
import { adapterFor } from '../stores/registry.js';
import type { ConnectionFlags, Io } from './audit-command.js';
import { resolveConnection } from './audit-command.js';
import { loadConfigFile } from './load-config.js';
import { checkWatchSection } from './watch-command.js';

export interface ValidateFlags extends Pick<ConnectionFlags, 'db' | 'dbFile' | 'config'> {
  connect?: boolean;
}

export async function validateCommand(flags: ValidateFlags, io: Io): Promise<number> {
  if (!flags.config && !flags.connect)
    throw new InvalidInputError('--config FILE: required (the config to check), or --connect');
  const source = flags.config ?? 'config';
  const connection = flags.connect ? await resolveConnection(flags, io.stderr) : undefined;
  const config = connection?.config ?? (await loadConfigFile(flags.config, io.stderr));
  if (config.watch) checkWatchSection(config.watch, source);
  const setup = actionsSetup(config);
  if (setup.errors.length) throw new ConfigError(`${source}: ${setup.errors[0]}`);
  for (const warning of setup.warnings) io.stderr(`${source}: warning: ${warning}`);
  const lines = [`${source}: valid`, ...whatItSays(config), ...setup.summary.map((l) => `  ${l}`)];
  let code: number = EXIT.inSync;
  if (connection) {
    const stores = applyStoreOverrides(await loadStores(connection.db), config);
    lines.push(`database ${describeDb(connection.db)}: a CloudStack database with ${stores.length} store(s)`);
    for (const store of stores) {
      const line = await reach(store, config);
      if (!line.ok) code = EXIT.incomplete;
      lines.push(`  store ${store.name} (${store.provider}, ${store.endpoint}): ${line.text}`);
    }
  }
  await io.stdout(`${lines.map(visible).join('\n')}\n`);
  return code;
}

/** What the config asks for, in a few lines: what a reader checks it against. */
function whatItSays(config: AuditConfig): string[] {
  const off = RULE_LIST.filter((r) => config.rules[r.id]?.enabled === false).map((r) => r.id);
  const fixes = RULE_LIST.filter((r) => config.rules[r.id]?.remediate === true).map((r) => r.id);
  const n = config.notify;
  const channels = [
    n?.snsTopicArn ? 'SNS' : '',
    n?.slackWebhookUrl ? 'Slack' : '',
    n?.smtp ? `email to ${n.smtp.to.length} address(es)` : '',
  ].filter(Boolean);
  const w = config.watch;
  const sources = w
    ? [
        w.cloudstack?.amqp ? 'the event bus' : '',
        w.cloudstack?.webhookSecret ? 'webhooks' : '',
        w.cloudstack?.pollEventsSeconds ? 'cloud.event' : '',
        Object.keys(w.opsLogs ?? {}).length ? 'RGW ops logs' : '',
        w.minio?.authToken ? 'MinIO audit' : '',
        w.minio?.listen ? 'MinIO notifications' : '',
        w.fullAudit ? `a full audit at "${w.fullAudit.cron}"` : '',
      ].filter(Boolean)
    : [];
  return [
    `  rules: ${RULE_LIST.length - off.length} of ${RULE_LIST.length} on${off.length ? ` (off: ${off.join(', ')})` : ''}; --apply allowed for ${fixes.length ? fixes.join(', ') : 'none'}`,
    `  stores configured: ${Object.keys(config.stores).length}; suppressions: ${config.suppressions.length}`,
    `  notifications: ${channels.length ? channels.join(', ') : 'none'}`,
    ...(w ? [`  watch: ${sources.join(', ')} (listening on ${w.listen})`] : []),
  ];
}

/** One store asked once, within the scan's own timeouts; never a verdict on any bucket. */
async function reach(store: StoreRecord, config: AuditConfig): Promise<{ ok: boolean; text: string }> {
  if (store.skip) return { ok: true, text: 'skipped by the config' };
  const adapter = adapterFor(store.provider);
  if (adapter.skipReason) return { ok: true, text: `not scanned: ${adapter.skipReason}` };
  const bad = endpointProblem(store.endpoint);
  if (bad) return { ok: false, text: `its URL ${bad}; nothing was sent to it` };
  if (!store.credentials)
    return { ok: false, text: 'no keys: object_store_details has no accesskey/secretkey' };
  const secrets = [store.credentials.accessKey, store.credentials.secretKey];
  const connection = adapter.connect(store, {
    ...config.scan,
    maxAttempts: 1,
    retryBaseDelayMs: 200,
    ...(store.ca ? { ca: store.ca } : {}),
  });
  try {
    const probe = `csdrift-validate-${randomBytes(6).toString('hex')}`;
    const check = await connection.headBucket(probe);
    if (check.result === 'unknown')
      return { ok: false, text: `not verified: ${redact(check.detail ?? 'no answer', secrets)}` };
    return { ok: true, text: 'reachable, its keys accepted' };
  } catch (err) {
    return { ok: false, text: `not verified: ${redact((err as Error).message, secrets)}` };
  } finally {
    connection.close();
  }
}
