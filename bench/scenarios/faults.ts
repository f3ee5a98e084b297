// Scenario 3: faults nginx cannot make. A relay in front of it cuts 1% of responses mid-body and stalls 1%
// (seeded), and forces one cut once 25% of the file has been served and one stall at 60% if chance has not
// produced them, so every tool meets both. Every tool gets the same stall timeout and is re-run after a
// failure as an operator would; the measure is the time to a verified tree (or file), against a clean run
// through the same relay.
import type { BenchContext, ScenarioResult } from '../context';
import { chunkSizeFor, smallestGzip, verdict } from '../context';
import { Relay, type FaultPlan } from '../relay';
import { fmtMiB, fmtSeconds, median, summarize, table } from '../stats';
import type { ToolName } from '../tools';
import { runTrial, type Trial } from '../trial';

const TOOLS: Array<{ tool: ToolName; attempts: number }> = [
  { tool: 'ours', attempts: 3 },
  { tool: 'curl|tar', attempts: 6 },
  { tool: 'aria2c', attempts: 3 },
  { tool: 'wget -c', attempts: 3 },
];

export async function faults(ctx: BenchContext): Promise<ScenarioResult> {
  const tools = ctx.options.baseline ? [TOOLS[0]!, { tool: 'ours (baseline)' as ToolName, attempts: 3 }, ...TOOLS.slice(1)] : TOOLS;
  const input = smallestGzip(ctx);
  const chunk = chunkSizeFor(input.bytes, 16);
  const stall = ctx.options.stallTimeoutS;
  const relay = await Relay.start(ctx.nginx.port);
  const plan = (run: number): FaultPlan => ({
    cutRate: 0.01,
    stallRate: 0.01,
    seed: run,
    forceCutAt: Math.floor(input.bytes * 0.25),
    forceStallAt: Math.floor(input.bytes * 0.6),
    stallMaxMs: Math.max(60_000, stall * 4000),
  });
  const trials: Trial[] = [];
  const injected: Array<{ tool: string; run: number; faults: Relay['faults'] }> = [];
  try {
    for (let run = 1; run <= ctx.options.runs; run++) {
      for (const { tool, attempts } of tools) {
        for (const faulty of [false, true]) {
          relay.reset(faulty ? plan(run) : null);
          const trial = await runTrial(ctx, {
            scenario: faulty ? 's3-faults' : 's3-clean',
            tool,
            input,
            url: relay.url(input.name),
            run,
            call: { stallTimeoutS: stall, attempts, ...(tool.startsWith('ours') ? { chunkSize: chunk.text } : {}) },
          });
          trials.push(trial);
          if (faulty) injected.push({ tool, run, faults: relay.faults });
        }
      }
    }
  } finally {
    await relay.close();
  }

  const rows: string[][] = [];
  const findings: string[] = [];
  for (const { tool } of tools) {
    const clean = summarize(trials.filter((t) => t.tool === tool && t.scenario === 's3-clean'));
    const faultyTrials = trials.filter((t) => t.tool === tool && t.scenario === 's3-faults');
    const faulty = summarize(faultyTrials);
    const slower = faulty.medianMs / clean.medianMs - 1;
    const counts = injected.filter((i) => i.tool === tool).map((i) => `${i.faults.filter((f) => f.kind === 'cut').length}c/${i.faults.filter((f) => f.kind === 'stall').length}s`);
    rows.push([
      tool,
      fmtSeconds(clean.medianMs),
      fmtSeconds(faulty.medianMs),
      Number.isFinite(slower) ? `${slower >= 0 ? '+' : ''}${(slower * 100).toFixed(0)}%` : '-',
      counts.join(', '),
      String(median(faultyTrials.map((t) => t.attempts))),
      fmtMiB(faulty.medianServed - input.bytes),
      `${clean.okRuns}/${clean.runs} clean, ${faulty.okRuns}/${faulty.runs} faulty${faulty.problems.length ? ` (${faulty.problems[0]})` : ''}`,
    ]);
    if (tool.startsWith('ours')) findings.push(`${tool}: ${(slower * 100).toFixed(0)}% slower than its clean run (target at most 15%: ${verdict(slower <= 0.15)}).`);
  }
  findings.push(`A stall costs at least the ${stall} s stall timeout for every tool; on an input this small that alone is a large share of the clean time.`);
  return {
    id: 3,
    title: 'Faults: 1% of responses cut mid-body, 1% stalled',
    setup: [
      `${input.name} (${fmtMiB(input.bytes)}) through a fault-injecting relay in front of nginx (no throttle). Per response with a body of 64 KiB or more: 1% cut mid-body (connection closed), 1% stalled mid-body (connection left open, silent); plus one cut forced when 25% of the file has been served and one stall at 60%, unless chance already made one.`,
      `Every tool gives up a silent transfer after ${stall} s (ours --idle-timeout ${stall}, curl --speed-limit 1 --speed-time ${stall}, aria2c --timeout=${stall}, wget --read-timeout=${stall}) and is started again after a failure (curl|tar from scratch into an emptied folder; the others resume).`,
      `ours: --chunk-size ${chunk.text} (at least 16 ranges), window 4, 4 connections; aria2c -x 4 -s 4. Clean runs go through the same relay with no faults. ${ctx.options.runs} run(s) each.`,
      'Faults column: cuts/stalls injected per run. Re-fetched: bytes served beyond the file size (median).',
    ],
    tables: [table(['tool', 'clean', 'with faults', 'slower', 'faults (per run)', 'tool starts', 're-fetched', 'verified'], rows)],
    findings,
    trials,
    extra: { injected },
  };
}
