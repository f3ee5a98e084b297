// Scenario 1: loopback, no throttle (CPU- and disk-bound). Ours (extracting, and download-only) against
// curl | tar, aria2c and wget -c on each gzip size, with the ceiling measured in the same run: Node's zlib
// inflating the same file on one core, and gzip -dc. At the smallest size, also the pigz archive, the plain
// tar, the multi-member gzip, and the .tar.lz4 and .tar.zst beside curl | lz4 -d | tar -x and
// curl | zstd -d | tar -x (and lz4 -dc / zstd -dc to /dev/null, their decoders alone). The write floor W
// (GNU tar -xf of the plain .tar from the page cache, no download, no decoder) is in every row of that
// tree: no pipeline can write the files faster than it.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, ScenarioResult } from '../context';
import { pct, verdict } from '../context';
import { decoderOf, type InputFile } from '../inputs';
import { measure } from '../measure';
import { quote } from '../shell';
import { fmtMiB, fmtRate, fmtRatio, fmtSeconds, groupBy, median, summarize, table } from '../stats';
import { pipelineLabel, type ToolName } from '../tools';
import { runTrial, type Trial } from '../trial';

const TOOLS: ToolName[] = ['curl|tar', 'ours', 'ours --no-checkpoints', 'ours --output', 'aria2c', 'wget -c'];
const FORMAT_TOOLS: ToolName[] = ['curl|tar', 'ours'];
/** aria2c as operators run it for speed (and as the write-path issue compares `--output` with it). */
const ARIA2C_CONNECTIONS = 8;
/** lz4 and zstd: also without checkpoints (Node's own zstd where the runtime has it). */
const LZ4_ZSTD_TOOLS: ToolName[] = ['curl|tar', 'ours', 'ours --no-checkpoints'];

interface Ceiling {
  input: string;
  zlibMs: number[];
  gzipMs: number[];
}

async function ceiling(ctx: BenchContext, input: InputFile): Promise<{ zlib: number; gzip: number }> {
  const file = join(ctx.inputs.serveDir, input.name);
  const node = await measure({ command: `${quote(process.execPath)} ${quote(join(__dirname, '..', 'inflate-ceiling.js'))} ${quote(file)}`, timeoutMs: 30 * 60_000 });
  const zlib = node.exitCode === 0 ? (JSON.parse(node.stdoutTail.trim()) as { ms: number }).ms : NaN;
  const gz = await measure({ command: `gzip -dc ${quote(file)} > /dev/null`, timeoutMs: 30 * 60_000 });
  return { zlib, gzip: gz.exitCode === 0 ? gz.wallMs : NaN };
}

/** W: GNU tar extracting the plain .tar from the page cache into a fresh folder (read once before). */
async function writeFloor(ctx: BenchContext, plain: InputFile): Promise<number> {
  const file = join(ctx.inputs.serveDir, plain.name);
  const dir = join(ctx.workDir, 'runs', 's1-write-floor');
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  await measure({ command: `cat ${quote(file)} > /dev/null`, timeoutMs: 30 * 60_000 });
  const r = await measure({ command: `tar -xf ${quote(file)} -C ${quote(dir)}`, timeoutMs: 30 * 60_000 });
  await fsp.rm(dir, { recursive: true, force: true });
  return r.exitCode === 0 ? r.wallMs : NaN;
}

/** The tools with "ours (baseline)" right after ours when a baseline engine is measured too. */
function withBaseline(ctx: BenchContext, tools: ToolName[]): ToolName[] {
  return ctx.options.baseline ? tools.flatMap((t): ToolName[] => (t === 'ours' ? ['ours', 'ours (baseline)'] : [t])) : tools;
}

export async function loopback(ctx: BenchContext): Promise<ScenarioResult> {
  const gzips = ctx.options.sizes.map((s) => ctx.inputs.find(s.label, 'gzip'));
  const smallest = gzips.reduce((a, b) => (a.bytes <= b.bytes ? a : b));
  const variants = (['pigz', 'tar', 'multi', 'lz4', 'zstd'] as const).map((v) => ctx.inputs.find(smallest.label, v));
  const decodeMs = new Map<string, number[]>();
  const trials: Trial[] = [];
  const ceilings = new Map<string, Ceiling>();
  const plain = variants.find((v) => v.variant === 'tar')!;
  const floorMs: number[] = [];
  for (let run = 1; run <= ctx.options.runs; run++) {
    floorMs.push(await writeFloor(ctx, plain));
    ctx.log(`  s1 write floor (tar -xf ${plain.name}) run ${run}: ${(floorMs[floorMs.length - 1]! / 1000).toFixed(2)} s`);
    for (const input of gzips) {
      const c = await ceiling(ctx, input);
      const entry = ceilings.get(input.name) ?? { input: input.name, zlibMs: [], gzipMs: [] };
      entry.zlibMs.push(c.zlib);
      entry.gzipMs.push(c.gzip);
      ceilings.set(input.name, entry);
      ctx.log(`  s1 zlib inflate ${input.name} run ${run}: ${(c.zlib / 1000).toFixed(2)} s, gzip -dc ${(c.gzip / 1000).toFixed(2)} s`);
      for (const tool of withBaseline(ctx, TOOLS)) {
        const call = tool === 'aria2c' ? { call: { connections: ARIA2C_CONNECTIONS } } : {};
        trials.push(await runTrial(ctx, { scenario: 's1', tool, input, url: ctx.nginx.url(input.name), run, ...call }));
      }
    }
    for (const input of variants) {
      const lz4OrZstd = input.variant === 'lz4' || input.variant === 'zstd';
      if (lz4OrZstd) {
        const d = await measure({ command: `${input.variant} -dc ${quote(join(ctx.inputs.serveDir, input.name))} > /dev/null`, timeoutMs: 30 * 60_000 });
        decodeMs.set(input.name, [...(decodeMs.get(input.name) ?? []), d.exitCode === 0 ? d.wallMs : NaN]);
      }
      // A baseline from before lz4 and zstd existed would only measure its refusal.
      for (const tool of lz4OrZstd ? LZ4_ZSTD_TOOLS : withBaseline(ctx, FORMAT_TOOLS))
        trials.push(await runTrial(ctx, { scenario: 's1', tool, input, url: ctx.nginx.url(input.name), run }));
    }
  }

  const rows: string[][] = [];
  const findings: string[] = [];
  const extra: Record<string, unknown> = { ceilings: [...ceilings.values()], decodeMs: Object.fromEntries(decodeMs), writeFloorMs: floorMs };
  const w = median(floorMs);
  for (const input of [...gzips, ...variants]) {
    const groups = groupBy(
      trials.filter((t) => t.input === input.name),
      (t) => t.tool,
    ).map(summarize);
    const ours = groups.find((g) => g.tool === 'ours')!;
    const c = ceilings.get(input.name);
    const zlibMs = c ? median(c.zlibMs) : NaN;
    if (c) {
      rows.push([
        input.name,
        fmtMiB(input.bytes),
        'zlib inflate (ceiling)',
        fmtSeconds(zlibMs),
        fmtRate(input.bytes, zlibMs),
        fmtRatio(zlibMs, ours.medianMs),
        '-',
        '-',
        `${c.zlibMs.length}/${c.zlibMs.length}`,
      ]);
      rows.push([
        input.name,
        fmtMiB(input.bytes),
        'gzip -dc > /dev/null',
        fmtSeconds(median(c.gzipMs)),
        fmtRate(input.bytes, median(c.gzipMs)),
        fmtRatio(median(c.gzipMs), ours.medianMs),
        '-',
        '-',
        `${c.gzipMs.length}/${c.gzipMs.length}`,
      ]);
    }
    if (input.label === plain.label) {
      rows.push([
        input.name,
        fmtMiB(input.bytes),
        `W: tar -xf ${plain.name} (write floor)`,
        fmtSeconds(w),
        '-',
        fmtRatio(w, ours.medianMs),
        '-',
        '-',
        `${floorMs.length}/${floorMs.length}`,
      ]);
    }
    const decode = decodeMs.get(input.name);
    if (decode) {
      const ms = median(decode);
      rows.push([
        input.name,
        fmtMiB(input.bytes),
        `${input.variant} -dc > /dev/null`,
        fmtSeconds(ms),
        fmtRate(input.bytes, ms),
        fmtRatio(ms, ours.medianMs),
        '-',
        '-',
        `${decode.length}/${decode.length}`,
      ]);
    }
    for (const g of groups) {
      const label = g.tool === 'curl|tar' ? pipelineLabel(decoderOf(input.variant)) : g.tool;
      rows.push([
        input.name,
        fmtMiB(input.bytes),
        label,
        fmtSeconds(g.medianMs),
        fmtRate(input.bytes, g.medianMs),
        fmtRatio(g.medianMs, ours.medianMs),
        fmtMiB(g.peakRssBytes),
        g.tool.startsWith('ours') || g.tool === 'aria2c' || g.tool === 'wget -c' ? fmtMiB(g.peakStagedBytes) : '0',
        `${g.okRuns}/${g.runs}${g.problems.length ? ` (${g.problems[0]})` : ''}`,
      ]);
    }
    const curl = groups.find((g) => g.tool === 'curl|tar');
    if (curl && ours) {
      const speedup = curl.medianMs / ours.medianMs;
      findings.push(
        `${input.name}: ours ${speedup.toFixed(2)}x the speed of ${pipelineLabel(decoderOf(input.variant))} (target 1.5x: ${verdict(speedup >= 1.5)})` +
          (c ? `; ${pct(zlibMs / ours.medianMs)} of zlib inflate speed (target 75%: ${verdict(zlibMs / ours.medianMs >= 0.75)})` : ''),
      );
    }
    if (input.label === plain.label && ours)
      findings.push(`${input.name}: ours ${(ours.medianMs / w).toFixed(2)} x the write floor W (tar -xf of the plain .tar from the page cache, ${fmtSeconds(w)}).`);
    const output = groups.find((g) => g.tool === 'ours --output');
    const aria2c = groups.find((g) => g.tool === 'aria2c');
    if (output && aria2c) {
      const wget = groups.find((g) => g.tool === 'wget -c');
      findings.push(
        `${input.name}: ours --output ${fmtSeconds(output.medianMs)} = ${(output.medianMs / aria2c.medianMs).toFixed(2)}x aria2c -x ${ARIA2C_CONNECTIONS} (${fmtSeconds(aria2c.medianMs)}; target within 1.1x: ${verdict(output.medianMs <= 1.1 * aria2c.medianMs)})` +
          (wget ? `; wget ${fmtSeconds(wget.medianMs)}.` : '.'),
      );
    }
    const unchecked = groups.find((g) => g.tool === 'ours --no-checkpoints');
    if (unchecked && ours) {
      findings.push(
        `${input.name}: checkpoints on vs. off: ${(unchecked.medianMs / 1000).toFixed(2)} s without, ${(ours.medianMs / 1000).toFixed(2)} s with (throughput ratio ${(unchecked.medianMs / ours.medianMs).toFixed(2)}).`,
      );
    }
  }
  return {
    id: 1,
    title: 'Loopback, no throttle',
    setup: [
      `nginx on 127.0.0.1, no rate limit; inputs in the page cache. ${ctx.options.runs} run(s) per tool, tools interleaved; median wall time of verified runs.`,
      `ours: engine defaults (64 MiB chunks, window 4, 4 connections); ours --no-checkpoints: the same without extraction checkpoints (zlib's streaming gunzip, nothing fsynced for resume). aria2c -x ${ARIA2C_CONNECTIONS} -s ${ARIA2C_CONNECTIONS} and wget -c download only.`,
      'W: GNU tar -xf of the plain .tar from the page cache into an empty folder (the write floor of that tree; no download, no decoder).',
      '"vs ours" is wall time over ours (above 1: slower than ours). Staged: disk allocated for staging (ours: state dir; aria2c and wget: their file).',
    ],
    tables: [table(['input', 'size', 'tool', 'median wall', 'throughput (compressed)', 'vs ours', 'peak RSS', 'peak staged', 'verified runs'], rows)],
    findings,
    trials,
    extra,
  };
}
