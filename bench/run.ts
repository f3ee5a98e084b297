// `npm run bench`: generates (or reuses) the inputs, serves them with nginx on loopback, runs the selected
// scenarios and writes the tables to stdout and to bench/results/<date>.md, .json (and the scenario 2 plot).
import { promises as fsp } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startNginx } from '../harness/nginx';
import type { BenchContext, ScenarioResult } from './context';
import { prepareInputs } from './inputs';
import { prepareEngine } from './engine-build';
import { machineInfo } from './machine';
import { HELP, parseOptions } from './options';
import { renderMarkdown } from './report';
import { faults } from './scenarios/faults';
import { loopback } from './scenarios/loopback';
import { resume } from './scenarios/resume';
import { scale } from './scenarios/scale';
import { shapes } from './scenarios/shapes';
import { throttled } from './scenarios/throttled';
import { selectBaselineCli, selectCli } from './tools';

const SCENARIOS: Record<number, (ctx: BenchContext) => Promise<ScenarioResult>> = { 1: loopback, 2: throttled, 3: faults, 4: resume, 5: scale, 6: shapes };

function stamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const started = Date.now();
  const machine = machineInfo();
  await fsp.mkdir(options.workDir, { recursive: true });
  const inputs = await prepareInputs(options.workDir, options.sizes, log);
  for (const f of inputs.files) log(`input ${f.name}: ${(f.bytes / 2 ** 20).toFixed(0)} MiB, tree ${(f.treeBytes / 2 ** 20).toFixed(0)} MiB in ${f.files} files`);
  if (options.prepareOnly) return 0;
  const engine = await prepareEngine(options.workDir, options.engine, log);
  selectCli(engine.cli);
  machine.commit = engine.describe;
  log(`engine: ${engine.describe}`);
  if (options.baseline) {
    const baseline = await prepareEngine(options.workDir, options.baseline, log);
    selectBaselineCli(baseline.cli);
    machine.commit += `; ours (baseline): ${baseline.describe}`;
    log(`baseline engine: ${baseline.describe}`);
  }
  const nginx = await startNginx({ root: inputs.serveDir });
  const resultsStem = stamp(new Date(machine.date));
  const ctx: BenchContext = { nginx, inputs, workDir: options.workDir, log, options, previous: [], resultsStem };
  const results: ScenarioResult[] = [];
  try {
    for (const id of options.scenarios) {
      log(`scenario ${id}`);
      const result = await SCENARIOS[id]!(ctx);
      results.push(result);
      ctx.previous.push(...result.trials);
    }
  } finally {
    await nginx.stop();
    await fsp.rm(join(options.workDir, 'runs'), { recursive: true, force: true });
  }
  const markdown = renderMarkdown(
    machine,
    options,
    results,
    loadavg().map((l) => +l.toFixed(2)),
    Date.now() - started,
  );
  process.stdout.write(markdown);
  await fsp.mkdir(options.resultsDir, { recursive: true });
  const base = join(options.resultsDir, resultsStem);
  await fsp.writeFile(`${base}.md`, markdown);
  await fsp.writeFile(`${base}.json`, JSON.stringify({ machine, options, scenarios: results.map(({ files: _f, ...r }) => r) }, null, 1) + '\n');
  for (const r of results) for (const f of r.files ?? []) await fsp.writeFile(`${base}-${f.name}`, f.content);
  log(`results: ${base}.md`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
