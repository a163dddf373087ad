// What to tell people after a run, decided from the ledger so that nothing is said twice: one task
// per newly reported finding, one message per resolved finding, one digest per run. Pure.
//
// A notification is one structure (after pino: one record, formatting belongs to the transport): a
// title, sections of text, facts and steps for people, and the data for programs. Each channel
// renders its own: notify/sns.ts the SNS subject, body and size limits (with the JSON part that
// subscribers read), notify/slack.ts Block Kit, notify/smtp.ts the mail.
import { createHash } from 'node:crypto';
import type { AuditConfig } from './config.js';
import type { Ledger } from './ledger.js';
import type { Finding, Severity, StoreCoverage } from './model.js';
import { SEVERITIES, ownerText } from './model.js';
import { visible } from './shell.js';
import { atStake, humanBytes } from './playbooks.js';
import { causeLine } from './cause.js';
import type { Report } from './report.js';
import { coverageLabel, whyIncomplete } from './report.js';

export type NotificationKind = 'task' | 'resolved' | 'digest' | 'healed';

/** A part of a message for people: lines of prose, aligned facts, or the steps of what to do. */
export type Section =
  | { kind: 'lines'; lines: string[] }
  | { kind: 'facts'; facts: [label: string, value: string][] }
  | { kind: 'steps'; summary?: string; steps: string[] };

/** The finding a task is about: what an interactive channel acts on. */
export interface NotifiedFinding {
  id: string;
  rule: string;
  store: string;
  bucket: string | null;
}

export interface Notification {
  kind: NotificationKind;
  severity: Severity;
  /** One line saying what it is about, as written: each channel escapes and shortens it its own way. */
  title: string;
  /** What people read, in order (renderText). */
  sections: Section[];
  reportUri: string;
  /** What programs read: the JSON part of an SNS message, unchanged for its subscribers. */
  data: Record<string, unknown>;
  /** The finding of a single task. */
  finding?: NotifiedFinding;
  attributes: { rule: string; severity: Severity; store: string; kind: NotificationKind };
  /** For FIFO topics. */
  groupId: string;
  dedupId: string;
  /** Ledger entries this message tells about, marked as published once it is sent. */
  findingIds: string[];
  /** One "investigate this store" task standing for many new findings (the storm breaker). */
  investigate?: boolean;
}

export interface NotificationPlan {
  messages: Notification[];
  /** Stores, by name, whose new findings were folded into one "investigate this store" task. */
  trippedStores: string[];
}

/** New findings told by event runs within this window count toward the next event run's breaker. */
export const STORM_WINDOW_MS = 15 * 60_000;
/** How long after a storm tripped a store's breaker its new findings wait for the full audit. */
export const STORM_QUIET_MS = 60 * 60_000;

type NotifyConfig = NonNullable<AuditConfig['notify']>;

function atLeast(severity: Severity, min: Severity | undefined): boolean {
  return !min || SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(min);
}

function dedup(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 64);
}

/** A message's text for people, every line escaped so that no name can forge or reorder one. */
export function renderText(n: Pick<Notification, 'sections'>): string {
  return n.sections
    .map((section) => {
      switch (section.kind) {
        case 'lines':
          return section.lines;
        case 'facts':
          return section.facts.map(([label, value]) => `${`${label}:`.padEnd(12)}${value}`);
        case 'steps':
          return [
            `What to do:${section.summary ? ` ${section.summary}` : ''}`,
            ...section.steps.map((step, i) => `  ${i + 1}. ${step}`),
          ];
      }
    })
    .map((lines) => lines.map(visible).join('\n'))
    .join('\n\n');
}

function taskMessage(f: Finding, report: Report, reportUri: string, notes: string[] = []): Notification {
  const sections: Section[] = [
    {
      kind: 'lines',
      lines: [
        `${f.severity.toUpperCase()}: ${f.rule}`,
        f.message,
        ...(f.cause ? [`Cause: ${causeLine(f.cause)}.`] : []),
        ...notes,
      ],
    },
    {
      kind: 'facts',
      facts: [
        ['Store', `${f.store.name} (${f.store.provider}, ${f.store.endpoint})`],
        ['Bucket', f.bucket ?? '-'],
        ['Owner', ownerText(f.owner)],
        ['First seen', f.firstSeen],
      ],
    },
    { kind: 'steps', summary: f.remediation.summary, steps: f.remediation.steps },
    {
      kind: 'facts',
      facts: [
        ['Report', reportUri],
        ['Finding id', `${f.id} (run ${report.runId})`],
      ],
    },
  ];
  const data = {
    kind: 'task',
    findingId: f.id,
    rule: f.rule,
    severity: f.severity,
    store: f.store,
    bucket: f.bucket,
    owner: f.owner,
    ...(f.expected !== undefined ? { expected: f.expected } : {}),
    ...(f.actual !== undefined ? { actual: f.actual } : {}),
    message: f.message,
    remediation: f.remediation,
    evidence: f.evidence,
    ...(f.cause ? { cause: f.cause } : {}),
    report: reportUri,
    runId: report.runId,
  };
  return {
    kind: 'task',
    severity: f.severity,
    title: `[${f.severity}] ${f.rule}: ${f.bucket ?? f.store.name} on ${f.store.name}`,
    sections,
    reportUri,
    data,
    finding: { id: f.id, rule: f.rule, store: f.store.name, bucket: f.bucket },
    attributes: { rule: f.rule, severity: f.severity, store: f.store.name, kind: 'task' },
    groupId: f.store.uuid,
    dedupId: dedup('task', f.id, report.runId),
    findingIds: [f.id],
  };
}

function breakerMessage(
  coverage: StoreCoverage,
  findings: Finding[],
  report: Report,
  reportUri: string,
  toldBefore: number,
): Notification {
  const share = coverage.bucketsInDb ? Math.round((findings.length / coverage.bucketsInDb) * 100) : 100;
  const byRule = Object.entries(
    findings.reduce<Record<string, number>>((acc, f) => ({ ...acc, [f.rule]: (acc[f.rule] ?? 0) + 1 }), {}),
  ).sort((a, b) => b[1] - a[1]);
  const worst = findings.reduce((a, b) =>
    SEVERITIES.indexOf(b.severity) < SEVERITIES.indexOf(a.severity) ? b : a,
  );
  const sections: Section[] = [
    {
      kind: 'lines',
      lines: [
        `HIGH: investigate store ${coverage.store.name}`,
        `${findings.length} new findings on one store in one run (${share}% of its ${coverage.bucketsInDb} buckets). A mass drift is far likelier a broken store, endpoint or credential than a mass deletion, so they are not sent one by one.`,
        ...(toldBefore
          ? [
              `${toldBefore} more new finding(s) on this store were told one by one by event audits in the last ${STORM_WINDOW_MS / 60_000} minutes; further ones wait for the next full audit.`,
            ]
          : []),
      ],
    },
    { kind: 'lines', lines: byRule.map(([rule, n]) => `  ${rule}: ${n}`) },
    {
      kind: 'steps',
      steps: [
        `Check the store's health and the auditor's view of it (endpoint ${coverage.store.endpoint}, its admin keys, recent changes).`,
        'Look through the findings in the report; if they are real, work through them there.',
        'Re-run the audit once the store is confirmed healthy.',
      ],
    },
    { kind: 'lines', lines: [`Report: ${reportUri}`] },
  ];
  return {
    kind: 'task',
    severity: 'high',
    title: `[high] investigate store ${coverage.store.name}: ${findings.length} new findings`,
    sections,
    reportUri,
    data: {
      kind: 'task',
      investigateStore: coverage.store,
      newFindings: findings.length,
      byRule: Object.fromEntries(byRule),
      findingIds: findings.map((f) => f.id),
      report: reportUri,
      runId: report.runId,
    },
    attributes: { rule: worst.rule, severity: 'high', store: coverage.store.name, kind: 'task' },
    groupId: coverage.store.uuid,
    dedupId: dedup('breaker', coverage.store.uuid, report.runId),
    findingIds: findings.map((f) => f.id),
    investigate: true,
  };
}

function resolvedMessage(r: Report['resolved'][number], report: Report, reportUri: string): Notification {
  const severity = 'info';
  return {
    kind: 'resolved',
    severity,
    title: `[resolved] ${r.rule}: ${r.bucket ?? r.store.name} on ${r.store.name}`,
    sections: [
      {
        kind: 'lines',
        lines: [
          `RESOLVED: ${r.rule}`,
          `${r.bucket ?? '-'} on store ${r.store.name} is no longer drifting (first seen ${r.firstSeen}, resolved ${r.resolvedAt}).`,
        ],
      },
      {
        kind: 'facts',
        facts: [
          ['Report', reportUri],
          ['Finding id', r.id],
        ],
      },
    ],
    reportUri,
    data: {
      kind: 'resolved',
      findingId: r.id,
      rule: r.rule,
      store: r.store,
      bucket: r.bucket,
      firstSeen: r.firstSeen,
      resolvedAt: r.resolvedAt,
      report: reportUri,
      runId: report.runId,
    },
    attributes: { rule: r.rule, severity, store: r.store.name, kind: 'resolved' },
    groupId: r.store.uuid,
    dedupId: dedup('resolved', r.id, report.runId),
    findingIds: [r.id],
  };
}

/** A finding the self-healing rule fixed: what was wrong, what was done, and how it was verified. */
export interface HealedFinding {
  finding: Finding;
  by: string;
  at: string;
  /** What each step did, in order. */
  steps: string[];
}

/** `healed`: not a task. The seed case completed on the owner's behalf, verified. */
export function healedMessage(h: HealedFinding, report: Report, reportUri: string): Notification {
  const f = h.finding;
  const severity = 'info';
  return {
    kind: 'healed',
    severity,
    title: `[healed] ${f.rule}: ${f.bucket ?? f.store.name} on ${f.store.name}`,
    sections: [
      {
        kind: 'lines',
        lines: [
          `HEALED: ${f.rule}`,
          `The owner's deleteBucket of ${f.bucket ?? '-'} failed because store ${f.store.name} no longer had the bucket; csdrift completed the delete and verified it (the row is removed, the store answers 404).`,
        ],
      },
      {
        kind: 'facts',
        facts: [
          ['Store', `${f.store.name} (${f.store.provider}, ${f.store.endpoint})`],
          ['Bucket', f.bucket ?? '-'],
          ['Owner', ownerText(f.owner)],
          ['Healed', `${h.at} by ${h.by}`],
        ],
      },
      { kind: 'lines', lines: ['Done:', ...h.steps.map((step, i) => `  ${i + 1}. ${step}`)] },
      {
        kind: 'facts',
        facts: [
          ['Report', reportUri],
          ['Finding id', `${f.id} (run ${report.runId})`],
        ],
      },
    ],
    reportUri,
    data: {
      kind: 'healed',
      findingId: f.id,
      rule: f.rule,
      store: f.store,
      bucket: f.bucket,
      owner: f.owner,
      by: h.by,
      at: h.at,
      steps: h.steps,
      report: reportUri,
      runId: report.runId,
    },
    attributes: { rule: f.rule, severity, store: f.store.name, kind: 'healed' },
    groupId: f.store.uuid,
    dedupId: dedup('healed', f.id, h.at),
    findingIds: [f.id],
  };
}

function digestMessage(
  report: Report,
  reportUri: string,
  sent: { tasks: number; resolved: number },
): Notification {
  const s = report.summary;
  const worst =
    SEVERITIES.find((sev) => report.findings.some((f) => f.status !== 'suppressed' && f.severity === sev)) ??
    'info';
  const sections: Section[] = [
    {
      kind: 'lines',
      lines: [
        // The change first: what a person reading one line wants to know.
        changeLine(report),
        `csdrift: ${report.status.replace('_', ' ')}. ${s.findings} finding(s): ${s.new} new, ${s.open} open, ${s.suppressed} suppressed; ${s.resolved} resolved.`,
        `${sent.tasks} task(s) and ${sent.resolved} resolved message(s) sent with this digest.`,
      ],
    },
    // An incomplete run says why at once: what it could not verify is not known to be in sync.
    ...(report.status === 'incomplete'
      ? [
          {
            kind: 'lines' as const,
            lines: ['Incomplete because:', ...whyIncomplete(report).map((l) => `  ${l}`)],
          },
        ]
      : []),
    {
      kind: 'lines',
      lines: [
        'Stores:',
        ...report.coverage.map(
          (c) =>
            `  ${c.store.name} (${c.store.provider}): ${coverageLabel(c)}${c.error ? ` - ${c.error}` : ''}`,
        ),
      ],
    },
    ...(Object.keys(s.byRule).length
      ? [
          {
            kind: 'lines' as const,
            lines: ['By rule:', ...Object.entries(s.byRule).map(([rule, n]) => `  ${rule}: ${n}`)],
          },
        ]
      : []),
    {
      kind: 'lines',
      lines: [
        `Report: ${reportUri}`,
        `Run:    ${report.runId} (${report.startedAt} to ${report.finishedAt})`,
      ],
    },
  ];
  return {
    kind: 'digest',
    severity: worst,
    title: `[csdrift] ${report.status.replace('_', ' ')}: ${s.new} new, ${s.open} open, ${s.resolved} resolved`,
    sections,
    reportUri,
    data: {
      kind: 'digest',
      runId: report.runId,
      status: report.status,
      summary: s,
      coverage: report.coverage.map((c) => ({
        store: c.store.name,
        status: c.status,
        error: c.error ?? null,
      })),
      report: reportUri,
    },
    attributes: { rule: 'all', severity: worst, store: 'all', kind: 'digest' },
    groupId: 'digest',
    dedupId: dedup('digest', report.runId),
    findingIds: [],
  };
}

/** `+3 new, -2 resolved; 1.20 GiB unbilled, …, +40.00 GiB unbilled since yesterday.` */
export function changeLine(report: Report): string {
  const s = report.summary;
  const stake = atStake(s);
  const since = sinceLastFullRun(report);
  return `+${s.new} new, -${s.resolved} resolved${stake ? `; ${stake}` : ''}${since ? `, ${since}` : ''}.`;
}

/** `+40.00 GiB unbilled since yesterday`: the change in unbilled bytes since the last full run. */
export function sinceLastFullRun(report: Report): string | null {
  const previous = report.trend?.previous;
  const now = report.summary.bytes?.unbilled;
  if (!previous || previous.unbilledBytes === undefined || now === undefined) return null;
  const diff = now - previous.unbilledBytes;
  const hours = (Date.parse(report.finishedAt) - Date.parse(previous.at)) / 3_600_000;
  const when = hours >= 20 && hours <= 28 ? 'yesterday' : `the last full run (${previous.at.slice(0, 10)})`;
  return `${diff >= 0 ? '+' : '-'}${humanBytes(Math.abs(diff))} unbilled since ${when}`;
}

export interface PlanInput {
  report: Report;
  ledger: Ledger;
  reportUri: string;
  notify: NotifyConfig | undefined;
  /**
   * Stores (by uuid) whose breaker an earlier event run tripped a short while ago: their new
   * findings are not told one by one now. Left untold in the ledger, the next full audit tells them.
   */
  quietStores?: ReadonlySet<string>;
  /** New findings per store (by uuid) that event runs told a short while ago: they count toward the breaker. */
  recentlyTold?: ReadonlyMap<string, number>;
  /** Lines a task adds, by finding id (what self-healing tried, where it did not heal). */
  notes?: Readonly<Record<string, string[]>>;
}

/** Tasks for reported findings the ledger has not yet told anyone about; resolved messages likewise. */
export function planNotifications({
  report,
  ledger,
  reportUri,
  notify,
  quietStores,
  recentlyTold,
  notes,
}: PlanInput): NotificationPlan {
  // The ledger as written decides: a finding another run has resolved since is not told as a task.
  const untold = report.findings.filter(
    (f) =>
      f.status !== 'suppressed' &&
      ledger.entries[f.id]?.status !== 'resolved' &&
      !ledger.entries[f.id]?.published?.task &&
      atLeast(f.severity, notify?.minSeverity),
  );
  const messages: Notification[] = [];
  const trippedStores: string[] = [];
  for (const coverage of report.coverage) {
    const mine = untold.filter((f) => f.store.uuid === coverage.store.uuid);
    if (!mine.length || quietStores?.has(coverage.store.uuid)) continue;
    const limit = notify?.breakerFindings ?? 25;
    // A run scoped to named buckets knows nothing of the store's size: only the count can trip it.
    const scoped = report.scope?.buckets.length > 0;
    const share = !scoped && coverage.bucketsInDb ? mine.length / coverage.bucketsInDb : 0;
    const recent = recentlyTold?.get(coverage.store.uuid) ?? 0;
    const tripped =
      mine.length + recent > limit || (mine.length >= 5 && share * 100 > (notify?.breakerPercent ?? 20));
    if (tripped) {
      trippedStores.push(coverage.store.name);
      messages.push(breakerMessage(coverage, mine, report, reportUri, recent));
    } else {
      messages.push(...mine.map((f) => taskMessage(f, report, reportUri, notes?.[f.id])));
    }
  }
  const resolved = report.resolved.filter(
    (r) => ledger.entries[r.id]?.status === 'resolved' && !ledger.entries[r.id]?.published?.resolved,
  );
  messages.push(...resolved.map((r) => resolvedMessage(r, report, reportUri)));
  const tasks = messages.filter((m) => m.kind === 'task').length;
  // A run started by a change event tells its tasks and resolutions only: the digest is the full audits'.
  if (report.trigger !== 'event')
    messages.push(digestMessage(report, reportUri, { tasks, resolved: resolved.length }));
  return { messages, trippedStores };
}

/** When, and by what kind of run, the messages were sent. */
export interface SentBy {
  runId: string;
  trigger: Report['trigger'];
  at: Date;
}

/**
 * The ledger after the messages were sent: each told finding marked, so no later run tells it again,
 * and a task marked with when an event run told it, which is the storm memory (stormMemory).
 */
export function markPublished(ledger: Ledger, sent: Notification[], by: SentBy): Ledger {
  const entries = { ...ledger.entries };
  for (const message of sent) {
    // A digest names no finding; a healed finding was marked by its fix (core/actions.ts).
    if (message.kind === 'digest' || message.kind === 'healed') continue;
    for (const id of message.findingIds) {
      const entry = entries[id];
      if (!entry) continue;
      const told =
        message.kind === 'task'
          ? {
              task: by.runId,
              taskAt: by.at.toISOString(),
              ...(by.trigger === 'event' ? { byEvent: true } : {}),
              ...(message.investigate ? { inStormTask: true } : {}),
            }
          : { [message.kind]: by.runId };
      entries[id] = { ...entry, published: { ...entry.published, ...told } };
    }
  }
  return { ...ledger, entries };
}

/**
 * What event runs told lately, read from the ledger: stores whose breaker an event run tripped within
 * the last hour (their new findings wait for the full audit), and per store how many findings event
 * runs told one by one within the last 15 minutes (they count toward the breaker). Every shell (the
 * watcher, the AWS event-audit function) reads it the same way, so a storm spread over many batches,
 * processes or invocations still becomes one "investigate this store" task.
 */
export function stormMemory(
  ledger: Ledger,
  now: Date,
): { quietStores: Set<string>; recentlyTold: Map<string, number> } {
  const quietStores = new Set<string>();
  const recentlyTold = new Map<string, number>();
  for (const entry of Object.values(ledger.entries)) {
    const told = entry.published;
    if (!told?.byEvent || !told.taskAt) continue;
    const age = now.getTime() - Date.parse(told.taskAt);
    if (told.inStormTask) {
      if (age < STORM_QUIET_MS) quietStores.add(entry.store.uuid);
    } else if (age < STORM_WINDOW_MS) {
      recentlyTold.set(entry.store.uuid, (recentlyTold.get(entry.store.uuid) ?? 0) + 1);
    }
  }
  return { quietStores, recentlyTold };
}
