// "incomplete" is explained wherever it is said: a store whose listing was verified but one of
// whose checks was not is never a plain "verified" (terminal, digest, HTML, metrics).
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../functions/cli/summary.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { BucketAttributes } from '../../functions/core/model.js';
import { planNotifications, renderText } from '../../functions/core/notifications.js';
import { coverageLabel } from '../../functions/core/report.js';
import { renderRunMetrics } from '../../functions/metrics/run-metrics.js';
import { renderHtml } from '../../functions/reports/html.js';
import { NOW, aBucket, aScan, anInput, reportOf } from '../support/builders.js';

describe('an incomplete run says why, everywhere', () => {
  // A store listed in full whose policy check could not be read for one bucket.
  const attributes: Record<string, BucketAttributes> = {
    a: { policy: { error: 'AccessDenied (HTTP 403) with the admin keys' } },
  };
  const scan = aScan(['a'], { capabilities: ['policy'], attributes });
  const { report, lifecycle } = reportOf(
    evaluate(anInput([aBucket('a', { policy: 'public' })], scan, { rules: ['bucket-policy-mismatch'] })),
  );

  it('the report is incomplete, and its store is "verified, 1 check not"', () => {
    expect(report.status).toBe('incomplete');
    expect(coverageLabel(report.coverage[0] as (typeof report.coverage)[number])).toBe(
      'verified, 1 check not',
    );
  });

  it('the terminal summary lists the check and its reason', () => {
    const text = formatSummary(report, undefined);
    expect(text).toContain('store minio-1 (MinIO): verified, 1 check not');
    expect(text).toMatch(/not verified: bucket-policy-mismatch: .*a: AccessDenied/);
  });

  it("the digest's first sections say why the run is incomplete", () => {
    const digest = planNotifications({
      report,
      ledger: lifecycle.ledger,
      reportUri: 'file:///r.html',
      notify: undefined,
    }).messages.find((m) => m.kind === 'digest');
    const text = renderText(digest as NonNullable<typeof digest>);
    expect(text).toMatch(
      /Incomplete because:\n {2}store minio-1: bucket-policy-mismatch not verified: .*AccessDenied/,
    );
    expect(text).toContain('minio-1 (MinIO): verified, 1 check not');
  });

  it('the HTML pill is not a plain green "verified"', () => {
    expect(renderHtml(report)).toMatch(
      /<span class="cov verified checks-open">verified, 1 check not<\/span>/,
    );
  });

  it('the metrics say which check, and the store is not counted as verified', async () => {
    const text = await renderRunMetrics({
      status: 'incomplete',
      startedAt: NOW,
      finishedAt: NOW,
      report,
      lastSuccessAt: null,
    });
    expect(text).toMatch(/^csdrift_check_verified\{store="minio-1",rule="bucket-policy-mismatch"\} 0$/m);
    expect(text).toMatch(/^csdrift_store_verified\{store="minio-1"\} 0$/m);
  });
});
