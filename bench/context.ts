// What every scenario gets (inputs, nginx, options, a log) and what it gives back (tables, notes, trials).
import type { Nginx } from '../harness/nginx';
import type { InputFile } from './inputs';
import type { TrialContext, Trial } from './trial';

export interface BenchOptions {
  sizes: Array<{ label: string; bytes: number }>;
  runs: number;
  scenarios: number[];
  workDir: string;
  resultsDir: string;
  /** Per-connection cap for scenario 2, e.g. "8M" (bytes/s, binary suffixes). */
  rate: string;
  /** Who applies it: the relay (default, no burst) or nginx limit_rate. */
  throttle: 'relay' | 'nginx';
  /** Connection counts compared in scenario 2. */
  connections: number[];
  /** Seconds without a byte before a transfer is given up (scenario 3, every tool). */
  stallTimeoutS: number;
  note: string | null;
  prepareOnly: boolean;
  /** "dist" or a commit-ish (see engine-build.ts). */
  engine: string;
  /** A commit measured beside the engine as "ours (baseline)" in scenarios 1-3, or null. */
  baseline: string | null;
}

export interface BenchContext extends TrialContext {
  options: BenchOptions;
  nginx: Nginx;
  /** Trials of earlier scenarios in this run (scenario 5 reuses scenario 1's). */
  previous: Trial[];
  /** Base name of this run's result files (e.g. "2025-01-31-1200"): plots are saved as <stem>-<name>. */
  resultsStem: string;
}

export interface ScenarioResult {
  id: number;
  title: string;
  /** How the scenario was run (sizes, settings), before the tables. */
  setup: string[];
  tables: string[];
  /** Acceptance checks and observations, after the tables. */
  findings: string[];
  trials: Trial[];
  extra?: Record<string, unknown>;
  files?: Array<{ name: string; content: string }>;
}

export function smallestGzip(ctx: BenchContext): InputFile {
  const label = [...ctx.options.sizes].sort((a, b) => a.bytes - b.bytes)[0]!.label;
  return ctx.inputs.find(label, 'gzip');
}

/** A chunk size giving the file at least `chunks` chunks (power of two, 4 MiB to 64 MiB), as "16M". */
export function chunkSizeFor(bytes: number, chunks: number): { text: string; bytes: number } {
  let mib = 64;
  while (mib > 4 && bytes / (mib * 2 ** 20) < chunks) mib /= 2;
  return { text: `${mib}M`, bytes: mib * 2 ** 20 };
}

export function pct(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(0)}%` : '-';
}

export function verdict(pass: boolean): string {
  return pass ? 'met' : 'NOT met';
}
