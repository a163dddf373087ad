import { evaluate } from '../../functions/core/evaluate.js';
import { updateLedger } from '../../functions/core/ledger.js';
import type { Report } from '../../functions/core/report.js';
import { buildReport } from '../../functions/core/report.js';
import { NOW, aBucket, aScan, absent, anInput } from './builders.js';

/** A report with names a user could choose, made by the real engine. */
export function hostileReport(): Report {
  const owner = {
    accountUuid: 'acct',
    accountName: '<img src=x onerror="window.pwned=1">',
    domainUuid: 'dom',
    domainPath: '/=HYPERLINK("http://evil")/',
  };
  const rows = [
    aBucket('<script>window.pwned=1</script>', { state: 'Allocated', owner }),
    aBucket('=cmd|"/c calc"!A1', { owner }),
    aBucket('+SUM(1)', { state: 'Allocated' }),
  ];
  const input = anInput(
    rows,
    aScan(['@evil', '-2+3', '\tTAB'], { absenceChecks: absent('=cmd|"/c calc"!A1') }),
  );
  const { findings, coverage } = evaluate(input);
  const lifecycle = updateLedger({
    previous: null,
    findings,
    coverage,
    runId: 'run-1',
    now: NOW,
    confirmRuns: () => 1,
  });
  return buildReport({
    runId: 'run-1',
    trigger: 'cli',
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
    cloudstack: { schema: '4.21', database: 'cloud', readAt: NOW.toISOString() },
    coverage,
    lifecycle,
    expiredSuppressions: [],
  });
}
