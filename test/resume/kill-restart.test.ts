// kill -9 at many points of a real download, then run the same `get` again: the final tree equals GNU tar's,
// and each restart fetches again at most the window plus one checkpoint interval (counted at the server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer, type RequestRecord } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { cliPath, makeFixture, scratch, suiteDir, type Fixture } from '../integration/harness';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const WINDOW = 4;
/** What a restart may fetch again: the window, plus one checkpoint interval (a checkpoint follows every chunk). */
const REFETCH_BOUND = WINDOW * CHUNK + CHUNK;
const TREE_MB = Number(process.env.RESUME_TEST_MB ?? 200);

let work: string;
let server: FaultServer;

before(async () => {
  work = suiteDir('resume');
  server = await FaultServer.start({ writeSize: 256 * 1024, maxResponseMs: 120_000 });
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface RunResult {
  code: number | null;
  killed: boolean;
  last: Record<string, unknown> | undefined;
  requests: RequestRecord[];
  warnings: string[];
}

/** Runs `get` until it ends, or until its consumed fraction reaches `killAt`, then SIGKILLs it. */
/** `killAt`: a consumed fraction, or a predicate on the run's events (killed at once when it holds). */
function runGet(
  url: string,
  dest: string,
  stateDir: string,
  killAt: number | ((e: Record<string, unknown>) => boolean) | null,
  extra: string[] = [],
  limitRate = '60M',
): Promise<RunResult> {
  const firstRequest = server.requests.length;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'get',
        url,
        '--dest',
        dest,
        '--state-dir',
        stateDir,
        '--chunk-size',
        `${CHUNK}`,
        '--window',
        `${WINDOW}`,
        '--concurrency',
        '3',
        '--limit-rate',
        limitRate,
        '--json',
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buffered = '';
    let last: Record<string, unknown> | undefined;
    let killed = false;
    const warnings: string[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('a run took longer than 120 s'));
    }, 120_000);
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as Record<string, unknown>;
        last = e;
        if (e.type === 'warning') warnings.push(`${e.code}: ${e.message}`);
        if (typeof killAt === 'function' && !killed && killAt(e)) {
          killed = true;
          child.kill('SIGKILL');
        }
        if (typeof killAt === 'number' && !killed && e.type === 'progress' && typeof e.bytesTotal === 'number' && (e.bytesConsumed as number) >= killAt * e.bytesTotal) {
          killed = true;
          // A little jitter so kills land in staging, mid-entry and mid-checkpoint, not only on ticks.
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 120));
        }
      }
    });
    child.stderr.on('data', () => undefined);
    // 'close', not 'exit': the last NDJSON line may still be in the pipe when the process exits.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, killed, last, requests: server.requests.slice(firstRequest), warnings });
    });
  });
}

/** Bytes this run's ranges re-fetched from what earlier runs had already received (each byte counted once). */
function refetched(earlier: Array<[number, number]>, run: RequestRecord[]): number {
  const received = mergeRanges(earlier);
  let total = 0;
  for (const r of run) {
    if (!r.range || r.bytesSent === 0) continue;
    const start = r.range.start;
    const end = start + r.bytesSent;
    for (const [a, b] of received) total += Math.max(0, Math.min(end, b) - Math.max(start, a));
  }
  return total;
}

/** The union of byte ranges: a chunk served by two earlier runs was counted twice against a third. */
function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

function served(run: RequestRecord[]): Array<[number, number]> {
  return run.filter((r) => r.range && r.bytesSent > 0).map((r) => [r.range!.start, r.range!.start + r.bytesSent] as [number, number]);
}

async function killAndResume(fx: Fixture, label: string, kills: number[], limitRate = '20M'): Promise<{ refetch: number[]; runs: number }> {
  const url = await server.serve(`/${label}`, { file: fx.archive });
  const dir = scratch(work, label);
  const dest = join(dir, 'out');
  const stateDir = join(dir, 'state');
  const seen: Array<[number, number]> = [];
  const refetch: number[] = [];
  let runs = 0;
  let resumedRuns = 0;
  const history: string[] = [];
  for (const at of [...kills, null]) {
    // Slow enough that each kill lands mid-download on a fast machine too (at 60 MB/s a 60 MB archive was done within the kill's jitter).
    const r = await runGet(url, dest, stateDir, at, [], limitRate);
    runs++;
    history.push(`run ${runs} (kill at ${at}): killed ${r.killed}, exit ${r.code}, warnings [${r.warnings.map((w) => w.split(':')[0]).join(', ')}], last ${String(r.last?.type)}`);
    if (runs > 1) {
      refetch.push(refetched(seen, r.requests));
      if (r.warnings.some((w) => w.startsWith('RESUMED'))) resumedRuns++;
    }
    seen.push(...served(r.requests));
    // A kill that lands after `done` (the job finished within the kill's jitter) also ends the scenario.
    if (at === null || !r.killed || r.last?.type === 'done') {
      // A run that finished before its kill point completed the job; a completed job removes its state, so
      // the scenario ends there (another run would meet a finished destination, not a resumable one).
      if (!r.killed) assert.equal(r.code, 0, `the run failed: ${JSON.stringify(r.last)}\n${history.join('\n')}`);
      assert.equal(r.last?.type, 'done');
      break;
    }
  }
  assertTreesEqual(fx.reference, dest);
  assert.ok(resumedRuns >= Math.min(kills.length, 1), `runs after a kill resumed from a checkpoint:\n${history.join('\n')}`);
  for (const [i, bytes] of refetch.entries()) {
    assert.ok(bytes <= REFETCH_BOUND, `restart ${i + 1} fetched ${bytes} bytes again (bound ${REFETCH_BOUND})`);
  }
  const sorted = [...refetch].sort((a, b) => a - b);
  console.log(
    `# ${label}: ${fx.size} bytes, ${runs} runs; re-fetched per restart max ${Math.max(...refetch)} median ${sorted[Math.floor(sorted.length / 2)]} (bound ${REFETCH_BOUND})`,
  );
  return { refetch, runs };
}

test(`kill -9 at 10 points of a ${TREE_MB} MB GNU tar.gz, resumed each time: identical tree, bounded re-fetch`, { timeout: 600_000 }, async () => {
  const fx = await makeFixture(work, 'big', 'tar.gz', { seed: 3, bytes: TREE_MB * MiB, incompressible: 0.6, maxFileBytes: 48 * MiB });
  await killAndResume(fx, 'big.tar.gz', [0.05, 0.12, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], '60M');
});

test('kill -9 and resume a plain .tar', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'plain', 'tar', { seed: 4, bytes: 60 * MiB, incompressible: 0.5, maxFileBytes: 20 * MiB });
  await killAndResume(fx, 'plain.tar', [0.2, 0.5, 0.8]);
});

test('kill -9 and resume a multi-member gzip', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'multi', 'tar.gz-multi', { seed: 5, bytes: 60 * MiB, incompressible: 0.5, maxFileBytes: 20 * MiB });
  await killAndResume(fx, 'multi.tar.gz', [0.25, 0.55, 0.85]);
});

test('kill -9 and resume a .tar.lz4 (independent blocks, lz4 defaults)', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'lz4', 'tar.lz4', { seed: 9, bytes: 60 * MiB, incompressible: 0.5, maxFileBytes: 20 * MiB });
  await killAndResume(fx, 'plain.tar.lz4', [0.25, 0.55, 0.85]);
});

test('kill -9 and resume a .tar.lz4 with linked blocks (lz4 -BD)', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'lz4-linked', 'tar.lz4-linked', { seed: 10, bytes: 60 * MiB, incompressible: 0.5, maxFileBytes: 20 * MiB });
  await killAndResume(fx, 'linked.tar.lz4', [0.25, 0.55, 0.85]);
});

test('a torn journal tail and a corrupted staged chunk are detected and fetched again; the tree is correct', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'torn', 'tar.gz', { seed: 6, bytes: 40 * MiB, incompressible: 0.7, maxFileBytes: 10 * MiB });
  const url = await server.serve('/torn.tar.gz', { file: fx.archive });
  const dir = scratch(work, 'torn');
  const dest = join(dir, 'out');
  const stateDir = join(dir, 'state');
  // Kill until a run leaves a staged chunk that the next run will read (at or after the checkpoint). A run
  // may finish before its kill point comes (progress is reported every 250 ms): then start over.
  let victim: string | null = null;
  for (let round = 0; round < 3 && !victim; round++) {
    rmSync(dest, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
    for (const at of [2, 4, 6]) {
      // Killed the moment a chunk is staged (its .bin on disk, its record journaled): that is the file to corrupt.
      const stagedAhead = (e: Record<string, unknown>) => e.type === 'chunk' && e.state === 'staged' && (e.index as number) >= at;
      const killedRun = await runGet(url, dest, stateDir, stagedAhead, [], '20M');
      if (!killedRun.killed || killedRun.code === 0) break;
      // No checkpoint yet (its fsyncs still running at the kill): the next run starts from chunk 0.
      const saved = join(stateDir, 'checkpoint.json');
      const offset = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as { extract: { compressedOffset: number } }).extract.compressedOffset : 0;
      const fromChunk = Math.floor(offset / CHUNK);
      // Only chunks inside the window from the resume point are read again; the next run discards the rest.
      const staged = readdirSync(stateDir)
        .filter((n) => /^chunk-\d+\.bin$/.test(n) && Number(n.slice(6, 14)) >= fromChunk && Number(n.slice(6, 14)) < fromChunk + WINDOW)
        .sort();
      if (staged.length > 0) {
        victim = join(stateDir, staged[0]!);
        break;
      }
    }
  }
  assert.ok(victim, 'some kill left a staged chunk past the checkpoint');
  const bytes = readFileSync(victim);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(victim, bytes);
  appendFileSync(join(stateDir, 'journal.log'), Buffer.from([0x20, 0, 0, 0, 1, 2, 3, 4, 0x7b]));
  const second = await runGet(url, dest, stateDir, null);
  assert.equal(second.code, 0, JSON.stringify(second.last));
  assert.ok(
    second.warnings.some((w) => w.startsWith('E_JOURNAL')),
    `torn tail reported: ${second.warnings.join(' | ')}`,
  );
  assert.ok(
    second.warnings.some((w) => w.startsWith('E_STAGED_CHUNK_INVALID')),
    `corrupt chunk reported: ${second.warnings.join(' | ')}`,
  );
  assertTreesEqual(fx.reference, dest);
});

test('the upstream changes between runs: exit 4, nothing spliced; --restart extracts the new snapshot', { timeout: 300_000 }, async () => {
  const a = await makeFixture(work, 'v1', 'tar.gz', { seed: 7, bytes: 30 * MiB, incompressible: 0.7, maxFileBytes: 8 * MiB });
  const b = await makeFixture(work, 'v2', 'tar.gz', { seed: 8, bytes: 30 * MiB, incompressible: 0.7, maxFileBytes: 8 * MiB });
  const url = await server.serve('/moving.tar.gz', { file: a.archive });
  const dir = scratch(work, 'moving');
  const dest = join(dir, 'out');
  const stateDir = join(dir, 'state');
  // Slow enough that the kill lands mid-download (at 60 MB/s a fast machine finished within the kill's jitter).
  const first = await runGet(url, dest, stateDir, 0.5, [], '10M');
  assert.ok(first.killed);
  assert.notEqual(first.last?.type, 'done', 'the first run was killed before it completed');
  await server.serve('/moving.tar.gz', { file: b.archive });
  const second = await runGet(url, dest, stateDir, null);
  assert.equal(second.code, 4);
  assert.equal(second.last?.type, 'error');
  assert.equal(second.last?.code, 'E_UPSTREAM_CHANGED');
  assert.equal(second.requests.filter((r) => r.range).length, 0, 'no byte of the new file was fetched into the old job');
  // The operator clears the half-extracted old snapshot and starts over on the new one.
  rmSync(dest, { recursive: true, force: true });
  const third = await runGet(url, dest, stateDir, null, ['--restart']);
  assert.equal(third.code, 0, JSON.stringify(third.last));
  assertTreesEqual(b.reference, dest);
});

test('kill -9 and resume a .tar.zst (one zstd frame: resumed at block boundaries inside it)', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'zstd', 'tar.zst', { seed: 11, bytes: 60 * MiB, incompressible: 0.5, maxFileBytes: 20 * MiB });
  await killAndResume(fx, 'single.tar.zst', [0.25, 0.55, 0.85]);
});

test('kill -9 and resume a pzstd .tar.zst (skippable frames between zstd frames)', { timeout: 300_000 }, async () => {
  const fx = await makeFixture(work, 'pzstd', 'tar.zst-pzstd', { seed: 12, bytes: 60 * MiB, incompressible: 0.5, maxFileBytes: 20 * MiB });
  await killAndResume(fx, 'pzstd.tar.zst', [0.25, 0.55, 0.85]);
});
