// `npm run bench -- [--sizes 256M,1G] [--runs 3] [--scenario 1,2] ...`: the options and their defaults.
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { parseSize } from '../electron/engine/units';
import type { BenchOptions } from './context';

export const HELP = `npm run bench -- [options]
  --sizes 256M,1G,4G     gzip input sizes (compressed), generated once into the work dir (default 256M)
  --runs N               runs per tool and case (default 3); the median of verified runs is reported
  --scenario 1,2,3,4,5   scenarios to run (default 1-5): 1 loopback, 2 throttled, 3 faults, 4 resume, 5 scale,
                         6 archive shapes (small-file and large-file trees of real files against the write floor)
  --dir PATH             work dir for inputs and runs (default $BENCH_DIR or /tmp/snapshot-manager-bench)
  --results PATH         where the .md, .json and .svg go (default bench/results)
  --rate 8M              per-connection cap in scenario 2 (bytes/s; 8M = 8 MiB/s)
  --throttle relay       who caps it: relay (token bucket, default) or nginx (limit_rate, which lets
                         each request's first second of bytes through at full speed)
  --connections 1,4,8    connection counts in scenario 2
  --stall-timeout 10     seconds without data before any tool gives up a transfer in scenario 3
  --note TEXT            a line for the results file (e.g. what else ran on the machine)
  --engine dist          the engine measured: dist (a copy of the current build, default) or a commit
                         (e.g. HEAD: that commit's electron/ and shared/, compiled into the work dir)
  --baseline COMMIT      also measure that commit's engine, interleaved with ours, as "ours (baseline)" in
                         scenarios 1-3 (before/after figures of one run, on the same machine state)
  --prepare              only generate the inputs (and their reference manifests), then exit`;

export function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string' },
      runs: { type: 'string' },
      scenario: { type: 'string' },
      dir: { type: 'string' },
      results: { type: 'string' },
      rate: { type: 'string' },
      throttle: { type: 'string' },
      connections: { type: 'string' },
      'stall-timeout': { type: 'string' },
      note: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      prepare: { type: 'boolean' },
      engine: { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  if (values.help) return null;
  const list = (text: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const sizes = list(values.sizes ?? '256M').map((label) => ({ label: label.toUpperCase(), bytes: parseSize(label, '--sizes') }));
  const scenarios = list(values.scenario ?? '1,2,3,4,5').map(Number);
  if (scenarios.some((s) => !Number.isInteger(s) || s < 1 || s > 6)) throw new Error('--scenario takes numbers from 1 to 6');
  const runs = Number(values.runs ?? 3);
  if (values.throttle !== undefined && values.throttle !== 'nginx' && values.throttle !== 'relay') throw new Error('--throttle is relay or nginx');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');
  const connections = list(values.connections ?? '1,4,8').map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1 || c > 16)) throw new Error('--connections takes numbers from 1 to 16');
  return {
    sizes,
    runs,
    scenarios,
    connections,
    workDir: resolve(values.dir ?? process.env.BENCH_DIR ?? '/tmp/snapshot-manager-bench'),
    resultsDir: resolve(values.results ?? join(__dirname, '..', '..', 'bench', 'results')),
    rate: values.rate ?? '8M',
    throttle: values.throttle === 'nginx' ? 'nginx' : 'relay',
    stallTimeoutS: Number(values['stall-timeout'] ?? 10),
    note: values.note ?? null,
    prepareOnly: values.prepare ?? false,
    engine: values.engine ?? 'dist',
    baseline: values.baseline ?? null,
  };
}
