// Scenario 5: scale. Peak RSS and peak staged disk of ours at every selected size, extracting and
// download-only, with engine defaults: neither may grow with the snapshot. Scenario 1's runs are reused
// when they ran in the same invocation.
import type { BenchContext, ScenarioResult } from '../context';
import { pct, verdict } from '../context';
import { fmtMiB, fmtRate, fmtSeconds, summarize, table } from '../stats';
import type { ToolName } from '../tools';
import { runTrial, type Trial } from '../trial';

const TOOLS: ToolName[] = ['ours', 'ours --output'];
const DEFAULT_BOUND = 4 * 64 * 2 ** 20;

export async function scale(ctx: BenchContext): Promise<ScenarioResult> {
  const inputs = [...ctx.options.sizes].sort((a, b) => a.bytes - b.bytes).map((s) => ctx.inputs.find(s.label, 'gzip'));
  const trials: Trial[] = [];
  for (const input of inputs) {
    for (const tool of TOOLS) {
      const earlier = ctx.previous.filter((t) => t.scenario === 's1' && t.tool === tool && t.input === input.name);
      if (earlier.length) trials.push(...earlier);
      else for (let run = 1; run <= ctx.options.runs; run++) trials.push(await runTrial(ctx, { scenario: 's5', tool, input, url: ctx.nginx.url(input.name), run }));
    }
  }
  const rows: string[][] = [];
  const findings: string[] = [];
  for (const tool of TOOLS) {
    const sums = inputs.map((input) => ({ input, s: summarize(trials.filter((t) => t.tool === tool && t.input === input.name)) }));
    for (const { input, s } of sums) {
      rows.push([
        tool,
        input.name,
        fmtMiB(input.bytes),
        fmtSeconds(s.medianMs),
        fmtRate(input.bytes, s.medianMs),
        fmtMiB(s.peakRssBytes),
        fmtMiB(s.peakStagedBytes),
        `${s.okRuns}/${s.runs}`,
      ]);
    }
    if (sums.length > 1) {
      const rss = sums.map((x) => x.s.peakRssBytes);
      const spread = Math.max(...rss) / Math.min(...rss) - 1;
      const staged = Math.max(...sums.map((x) => x.s.peakStagedBytes));
      findings.push(
        `${tool}: peak RSS spread across sizes ${pct(spread)} (target within 10%: ${verdict(spread <= 0.1)}); peak staged ${fmtMiB(staged)} against the window bound ${fmtMiB(DEFAULT_BOUND)} + one chunk (${verdict(staged <= DEFAULT_BOUND + 64 * 2 ** 20)}).`,
      );
    }
  }
  return {
    id: 5,
    title: 'Scale: peak RSS and staged disk by snapshot size',
    setup: [
      'ours with engine defaults (64 MiB chunks, window 4, 4 connections), loopback without throttle; RSS is the process tree sampled every 100 ms; staged is disk allocated in the state dir.',
      "Runs are scenario 1's when it ran in the same invocation.",
    ],
    tables: [table(['tool', 'input', 'size', 'median wall', 'throughput', 'peak RSS', 'peak staged', 'verified runs'], rows)],
    findings,
    trials: trials.filter((t) => t.scenario === 's5'),
  };
}
