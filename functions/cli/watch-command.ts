// csdrift watch: a thin shell over the watcher. Inputs are checked as `audit` checks them (one line,
// exit 3); then it runs until SIGTERM or SIGINT, finishes the audits in flight, and exits 0.
import { join } from 'node:path';
import type { WatchConfig } from '../core/config.js';
import { ConfigError, InvalidInputError } from '../core/errors.js';
import { parseFormats } from '../reports/formats.js';
import { openStorage } from '../state/open-storage.js';
import { Watcher, checkSchedule } from '../watch/watcher.js';
import type { ConnectionFlags, Io, OutputFlags } from './audit-command.js';
import { notifiersFor, resolveConnection } from './audit-command.js';

export type WatchFlags = ConnectionFlags & OutputFlags;

/** What `watch` checks of its section before it starts, and `validate` too: a source, a good schedule. */
export function checkWatchSection(watch: WatchConfig, source = 'config'): void {
  const cs = watch.cloudstack;
  const storeFeeds =
    Object.keys(watch.opsLogs ?? {}).length > 0 || watch.minio?.authToken || watch.minio?.listen;
  if (!cs?.amqp && !cs?.webhookSecret && !cs?.pollEventsSeconds && !storeFeeds && !watch.fullAudit)
    throw new ConfigError(
      `${source}: watch: no source: give watch.cloudstack.amqp, webhookSecret (or webhookSecretFile, webhookSecretId) or pollEventsSeconds, watch.opsLogs, watch.minio, or watch.fullAudit`,
    );
  checkSchedule(watch, source);
}

export async function watchCommand(
  flags: WatchFlags,
  io: Io,
  stopSignal: Promise<unknown> = signalled(),
): Promise<number> {
  const formats = parseFormats(flags.format);
  const inputs = await resolveConnection(flags, io.stderr);
  const watch = inputs.config.watch;
  if (!watch)
    throw new ConfigError('--config: needs a watch section (CloudStack event sources; see the README)');
  const source = flags.config ?? 'config';
  checkWatchSection(watch, source);
  const s3 = flags.out.startsWith('s3://');
  if (s3 && !watch.stateDir)
    throw new ConfigError(
      `${source}: watch.stateDir: required when --out is s3:// (a local folder for the spool and cursor)`,
    );
  const storage = openStorage(flags.out);
  const notifiers = flags.notify ? await notifiersFor(flags, inputs.config) : [];
  const watcher = new Watcher({
    db: inputs.db,
    config: inputs.config,
    storage,
    formats,
    notifiers,
    stateDir: watch.stateDir ?? join(flags.out, 'watch-state'),
    configSource: source,
    log: flags.quiet ? () => {} : io.stderr,
  });
  try {
    await watcher.start();
  } catch (err) {
    await watcher.stop().catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new InvalidInputError(`${source}: watch.listen ${watch.listen}: cannot listen there (${code})`, {
        cause: err,
      });
    throw err;
  }
  await stopSignal;
  io.stderr('stopping: finishing the audits in flight');
  await watcher.stop();
  return 0;
}

/** Resolves at the first SIGTERM or SIGINT. */
function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
