import { evaluate } from '../../functions/core/evaluate.js';
import type { Report } from '../../functions/core/report.js';
import { aBucket, aScan, absent, anInput, reportOf } from './builders.js';

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
  return reportOf(evaluate(input), { runId: 'run-1' }).report;
}
