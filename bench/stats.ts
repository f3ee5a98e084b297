// Medians and per-group summaries of trials; formatting of sizes, times and ratios for the tables.
import type { Trial } from './trial';

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Summary {
  tool: string;
  input: string;
  inputBytes: number;
  connections: number;
  runs: number;
  okRuns: number;
  /** Median over verified runs only (NaN when none verified). */
  medianMs: number;
  minMs: number;
  maxMs: number;
  peakRssBytes: number;
  peakStagedBytes: number;
  medianServed: number;
  problems: string[];
}

export function summarize(trials: Trial[]): Summary {
  const ok = trials.filter((t) => t.ok);
  const first = trials[0]!;
  const times = ok.map((t) => t.wallMs);
  return {
    tool: first.tool,
    input: first.input,
    inputBytes: first.inputBytes,
    connections: first.connections,
    runs: trials.length,
    okRuns: ok.length,
    medianMs: median(times),
    minMs: times.length ? Math.min(...times) : NaN,
    maxMs: times.length ? Math.max(...times) : NaN,
    peakRssBytes: Math.max(...trials.map((t) => t.peakRssBytes)),
    peakStagedBytes: Math.max(...trials.map((t) => t.peakStagedBytes)),
    medianServed: median(trials.map((t) => t.bytesServed)),
    problems: [...new Set(trials.flatMap((t) => t.problems))].slice(0, 3),
  };
}

/** Groups trials by a key, keeping first-seen order. */
export function groupBy<T>(items: T[], key: (t: T) => string): T[][] {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    map.set(k, [...(map.get(k) ?? []), item]);
  }
  return [...map.values()];
}

export const MiB = 2 ** 20;

export function fmtMiB(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  return bytes >= 10 * MiB ? `${(bytes / MiB).toFixed(0)} MiB` : `${(bytes / MiB).toFixed(1)} MiB`;
}

export function fmtSeconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'failed';
}

export function fmtRate(bytes: number, ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s` : '-';
}

/** "2.10x": how many times `ms` is the reference's time (above 1: slower than the reference). */
export function fmtRatio(ms: number, referenceMs: number): string {
  return Number.isFinite(ms) && Number.isFinite(referenceMs) && referenceMs > 0 ? `${(ms / referenceMs).toFixed(2)}x` : '-';
}

export function table(header: string[], rows: string[][]): string {
  // A pipe inside a cell (curl | tar) would end the cell: escaped.
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
