// How far two sizes may differ before it is drift: both sides lag (CloudStack refreshes hourly,
// MinIO's usage is a periodic scan), so small and recent differences are not drift.
import type { TOLERANCE_OPTIONS } from './options.js';
import type { RuleContext } from './rule.js';

export interface Tolerance {
  percent: number;
  bytes: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { percent: 10, bytes: 100 * 1024 ** 2 };

export function toleranceOf({ options }: RuleContext<typeof TOLERANCE_OPTIONS>): Tolerance {
  return {
    percent: options.tolerancePercent ?? DEFAULT_TOLERANCE.percent,
    bytes: options.toleranceMiB !== undefined ? options.toleranceMiB * 1024 ** 2 : DEFAULT_TOLERANCE.bytes,
  };
}

/** Beyond both the absolute and the relative tolerance. */
export function beyond(a: number, b: number, t: Tolerance): boolean {
  const diff = Math.abs(a - b);
  return diff > t.bytes && diff > (Math.max(a, b) * t.percent) / 100;
}
