// Scenario 6: the write path on two archive shapes of the same bytes (see shapes.ts), against the machine's
// own floors measured in the same run: W, GNU tar -xf of the plain .tar from the page cache (no download, no
// decoder), and I, gzip -dc > /dev/null. Ours and curl | tar on the .tar.gz and the plain .tar of each
// shape, runs interleaved, medians.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, ScenarioResult } from '../context';
import { verdict } from '../context';
import { measure } from '../measure';
import { quote } from '../shell';
import { prepareShapes, type ShapeInputs } from '../shapes';
import { fmtMiB, fmtSeconds, groupBy, median, summarize, table } from '../stats';
import { pipelineLabel, type ToolName } from '../tools';
import { runTrial, type Trial } from '../trial';

const TOOLS: ToolName[] = ['ours', 'curl|tar'];

/** GNU tar extracting `tar` from the page cache into an empty folder (read once before). */
export async function tarWriteFloor(ctx: BenchContext, tar: string, label: string): Promise<number> {
  const dir = join(ctx.workDir, 'runs', `write-floor-${label}`);
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  await measure({ command: `cat ${quote(tar)} > /dev/null`, timeoutMs: 30 * 60_000 });
  const r = await measure({ command: `tar -xf ${quote(tar)} -C ${quote(dir)}`, timeoutMs: 30 * 60_000 });
  await fsp.rm(dir, { recursive: true, force: true });
  return r.exitCode === 0 ? r.wallMs : NaN;
}

async function inflateFloor(gz: string): Promise<number> {
  const r = await measure({ command: `gzip -dc ${quote(gz)} > /dev/null`, timeoutMs: 30 * 60_000 });
  return r.exitCode === 0 ? r.wallMs : NaN;
}

const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-');

export async function shapes(ctx: BenchContext): Promise<ScenarioResult> {
  const inputs = await prepareShapes(ctx.workDir, ctx.inputs.serveDir, join(ctx.workDir, 'manifests'), ctx.log);
  const floors = new Map<string, { w: number[]; i: number[] }>();
  const trials: Trial[] = [];
  for (let run = 1; run <= ctx.options.runs; run++) {
    for (const shape of inputs) {
      const f = floors.get(shape.label) ?? { w: [], i: [] };
      f.w.push(await tarWriteFloor(ctx, join(ctx.inputs.serveDir, shape.tar.name), shape.label));
      f.i.push(await inflateFloor(join(ctx.inputs.serveDir, shape.gzip.name)));
      floors.set(shape.label, f);
      ctx.log(`  s6 ${shape.label} run ${run}: W ${fmtSeconds(f.w[f.w.length - 1]!)}, I ${fmtSeconds(f.i[f.i.length - 1]!)}`);
      for (const input of [shape.gzip, shape.tar]) {
        for (const tool of TOOLS) trials.push(await runTrial(ctx, { scenario: 's6', tool, input, url: ctx.nginx.url(input.name), run }));
      }
    }
  }
  const rows: string[][] = [];
  const findings: string[] = [];
  for (const shape of inputs) {
    const f = floors.get(shape.label)!;
    const w = median(f.w);
    const i = median(f.i);
    const of = (input: ShapeInputs['tar'], tool: ToolName) => {
      const g = groupBy(
        trials.filter((t) => t.input === input.name && t.tool === tool),
        (t) => t.tool,
      ).map(summarize)[0];
      return g && g.okRuns > 0 ? g.medianMs : NaN;
    };
    const oursGz = of(shape.gzip, 'ours');
    const curlGz = of(shape.gzip, 'curl|tar');
    const oursTar = of(shape.tar, 'ours');
    const curlTar = of(shape.tar, 'curl|tar');
    const gzFloor = Math.max(w, i);
    rows.push([
      `${shape.label} (${shape.tar.files} files, ${fmtMiB(shape.tar.treeBytes)})`,
      fmtSeconds(w),
      fmtSeconds(i),
      `${fmtSeconds(oursGz)} = ${ratio(oursGz, gzFloor)} floor`,
      `${fmtSeconds(curlGz)} (${ratio(curlGz, oursGz)})`,
      `${fmtSeconds(oursTar)} = ${ratio(oursTar, w)} W`,
      `${fmtSeconds(curlTar)} (${ratio(curlTar, oursTar)})`,
    ]);
    findings.push(
      `${shape.label}: .tar.gz ours ${ratio(oursGz, gzFloor)} max(W, I) (target 1.15x: ${verdict(oursGz <= 1.15 * gzFloor)}), ${pipelineLabel('gzip')} / ours ${ratio(curlGz, oursGz)} (target at least 1: ${verdict(curlGz >= oursGz)}); ` +
        `.tar ours ${ratio(oursTar, w)} W (target 1.15x: ${verdict(oursTar <= 1.15 * w)}), ${pipelineLabel(null)} / ours ${ratio(curlTar, oursTar)} (target at least 1: ${verdict(curlTar >= oursTar)}).`,
    );
  }
  return {
    id: 6,
    title: 'Archive shapes: small files and large files, against the write floor',
    setup: [
      `Two trees of the same bytes: shape-small, this machine's real files (${inputs[0]?.tar.files ?? 0} files); shape-large, the small tree's tar cut into 16 MiB files. Each as a GNU tar and gzip -6, served by nginx on loopback from the page cache. ${ctx.options.runs} run(s), tools interleaved, medians of verified runs.`,
      'W: GNU tar -xf of the plain .tar from the page cache into an empty folder (the write floor). I: gzip -dc > /dev/null (the decompressor floor). Ours with engine defaults.',
      "In parentheses: the pipeline's wall time over ours (above 1: ours is faster).",
    ],
    tables: [table(['shape', 'W', 'I', 'ours .tar.gz', 'curl | tar -xz', 'ours .tar', 'curl | tar -x'], rows)],
    findings,
    trials,
    extra: { floors: Object.fromEntries(floors) },
  };
}
