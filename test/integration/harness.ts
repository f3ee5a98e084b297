// Shared by the integration suites: a fixture archive with its GNU tar reference, the engine run in-process
// with fast test settings, the real CLI run as a child, and checks that nothing spliced reached the disk.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, lstatSync, openSync, readSync, closeSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job, type JobOptions } from '../../electron/engine/job/job';
import { EngineError } from '../../electron/engine/errors';
import type { EngineEvent, JobSummary } from '../../electron/engine/events';
import { buildTree, extractReference, makeArchive, type ArchiveKind, type TreeOptions } from '../helpers/archives';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const cliPath = join(repoRoot, 'dist', 'electron', 'cli.js');

export interface Fixture {
  dir: string;
  archive: string;
  size: number;
  /** GNU tar's extraction of the archive. */
  reference: string;
}

/** A tree, its archive made by the real tools, and GNU tar's extraction of that archive. */
export async function makeFixture(dir: string, name: string, kind: ArchiveKind, tree: TreeOptions): Promise<Fixture> {
  const src = join(dir, `${name}-src`);
  buildTree(src, tree);
  const archive = await makeArchive(src, join(dir, `${name}.${kind.replace(/-.*$/, '')}`), kind);
  const reference = join(dir, `${name}-reference`);
  await extractReference(archive, reference);
  return { dir, archive, size: statSync(archive).size, reference };
}

export function scratch(parent: string, label: string): string {
  return mkdtempSync(join(parent, `${label}-`));
}

export interface Outcome {
  job: Job;
  /** The job did not settle in time and was cancelled by the watchdog (the error is then E_ABORTED). */
  hung: boolean;
  summary: JobSummary | null;
  error: EngineError | null;
  events: EngineEvent[];
  dest: string;
  stateDir: string;
  ms: number;
}

/** Small chunks, short timeouts and backoff: every fault test runs in seconds. */
export const FAST: Partial<JobOptions> = {
  chunkSize: 128 * 1024,
  window: 4,
  concurrency: 3,
  idleTimeoutMs: 2_000,
  connectTimeoutMs: 2_000,
  retries: 4,
  retryBaseMs: 20,
  retryCapMs: 200,
  progressIntervalMs: 50,
};

/** A job that has not settled by then is stuck: it is cancelled so the suite goes on and reports it. */
export const WATCHDOG_MS = 10_000;

/** Runs a Job to its end; never throws (the outcome holds the summary or the coded error). */
export async function runEngine(
  url: string,
  where: { dest?: string; output?: string; stateDir: string },
  options: Partial<JobOptions> = {},
  onEvent?: (e: EngineEvent, job: Job) => void,
  watchdogMs = WATCHDOG_MS,
): Promise<Outcome> {
  const job = new Job({ ...FAST, ...options, url, ...where } as JobOptions);
  const events: EngineEvent[] = [];
  job.on('event', (e: EngineEvent) => {
    events.push(e);
    onEvent?.(e, job);
  });
  const started = Date.now();
  let summary: JobSummary | null = null;
  let error: EngineError | null = null;
  let hung = false;
  const watchdog = setTimeout(() => {
    hung = true;
    job.cancel();
  }, watchdogMs);
  try {
    summary = await job.run();
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    error = err;
  } finally {
    clearTimeout(watchdog);
  }
  if (hung) {
    const last = events
      .filter((e) => e.type !== 'progress' && e.type !== 'window')
      .slice(-3)
      .map((e) => e.type);
    error = new EngineError('E_INTERNAL', `the job hung: not settled after ${watchdogMs} ms (cancelled by the test; last events: ${last.join(', ')})`, { cause: error });
  }
  return { job, hung, summary, error, events, dest: where.dest ?? where.output ?? '', stateDir: where.stateDir, ms: Date.now() - started };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The NDJSON lines of stdout, parsed. */
  lines: Array<Record<string, unknown>>;
  last: Record<string, unknown> | undefined;
  /** From the last output on stdout to the process's exit. */
  exitAfterLastLineMs: number;
}

/** Runs `node dist/electron/cli.js <args>` with a hard time limit. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let lastLineAt = 0;
    child.stdout.on('data', (d) => {
      stdout += String(d);
      lastLineAt = performance.now();
    });
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines: Array<Record<string, unknown>> = [];
      for (const line of stdout.split('\n')) {
        if (!line.trim()) continue;
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          lines.push({ type: 'unparseable', line });
        }
      }
      resolvePromise({ code, signal, stdout, stderr, lines, last: lines.at(-1), exitAfterLastLineMs: performance.now() - lastLineAt });
    });
  });
}

/** CLI flags matching FAST. */
export const FAST_CLI = ['--chunk-size', '128K', '--window', '4', '--concurrency', '3', '--idle-timeout', '2', '--retries', '4', '--retry-base', '20ms'];

/**
 * After a failed job: every file it left in `dest` must be a prefix of the reference file of the same name
 * (a partly written last file is fine; a byte from elsewhere is splicing). Returns the offending paths.
 */
export function splicedFiles(reference: string, dest: string): string[] {
  const bad: string[] = [];
  if (!existsSync(dest)) return bad;
  const visit = (rel: string) => {
    for (const name of readdirSync(join(dest, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dest, path));
      if (st.isDirectory()) visit(path);
      else if (st.isFile() && !isPrefix(join(dest, path), join(reference, path))) bad.push(path);
    }
  };
  visit('');
  return bad;
}

function isPrefix(file: string, of: string): boolean {
  if (!existsSync(of) || statSync(of).size < statSync(file).size) return false;
  const a = openSync(file, 'r');
  const b = openSync(of, 'r');
  try {
    const ba = Buffer.alloc(1 << 20);
    const bb = Buffer.alloc(1 << 20);
    for (let pos = 0; ; pos += ba.length) {
      const n = readSync(a, ba, 0, ba.length, pos);
      if (n === 0) return true;
      readSync(b, bb, 0, n, pos);
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
    }
  } finally {
    closeSync(a);
    closeSync(b);
  }
}

export function eventsOf<T extends EngineEvent['type']>(events: EngineEvent[], type: T): Array<Extract<EngineEvent, { type: T }>> {
  return events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
}

/** tmpdir-based working folder for one suite. */
export function suiteDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `sm-${label}-`));
}
