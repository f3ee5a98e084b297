// Against a real nginx on loopback: a GNU tar .tar.gz of generated files (tens of MB) comes out identical to
// `tar -xzf` of the same file (content, modes, symlinks, hardlinks), while the staged chunks on disk never exceed
// window x chunk size + one chunk. Download-only is byte-identical, and a wrong --sha256 exits 4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { optedOut } from '../../harness/opt-out';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startNginx, type Nginx } from '../../harness/nginx';
import { assertTreesEqual, sha256File } from '../helpers/archives';
import { eventsOf, makeFixture, runCli, runEngine, scratch, suiteDir, type Fixture } from './harness';

const exec = promisify(execFile);
const unavailable = optedOut('SKIP_NGINX');
const CHUNK = 4 * 1024 * 1024;
const WINDOW = 4;

let work: string;
let fx: Fixture;
let nginx: Nginx;
let url: string;

before(async () => {
  if (unavailable) return;
  work = suiteDir('nginx');
  // ~90 MB of files, 70% incompressible: a .tar.gz of about 70 MB.
  fx = await makeFixture(work, 'snapshot', 'tar.gz', { seed: 2024, bytes: 90 * 1024 * 1024, incompressible: 0.7, maxFileBytes: 12 * 1024 * 1024 });
  const served = join(work, 'www');
  await exec('mkdir', ['-p', served]);
  await exec('mv', [fx.archive, join(served, 'snapshot.tar.gz')]);
  fx.archive = join(served, 'snapshot.tar.gz');
  nginx = await startNginx({ root: served });
  url = nginx.url('/snapshot.tar.gz');
});

after(async () => {
  await nginx?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Bytes of chunk files in the state folder right now (staged and partial). */
function stagedOnDisk(stateDir: string): number {
  let total = 0;
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(dir, name);
      try {
        const st = statSync(full);
        if (st.isDirectory()) visit(full);
        else if (/^chunk-\d+\.(part|bin)$/.test(name)) total += st.size;
      } catch {
        // removed between readdir and stat: consumed
      }
    }
  };
  visit(stateDir);
  return total;
}

test('get from nginx: the tree equals tar -xzf, staged disk stays within window x chunk + one chunk', async (t) => {
  if (unavailable) return t.skip(unavailable);
  assert.ok(fx.size > 50 * 1024 * 1024, `archive is ${fx.size} bytes`);
  const dir = scratch(work, 'get');
  const where = { dest: join(dir, 'out'), stateDir: join(dir, 'state') };
  let peakDisk = 0;
  const sampler = setInterval(() => (peakDisk = Math.max(peakDisk, stagedOnDisk(where.stateDir))), 10);
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  let o;
  try {
    o = await runEngine(url, where, { chunkSize: CHUNK, window: WINDOW, concurrency: 4, idleTimeoutMs: 10_000, progressIntervalMs: 100 }, undefined, 120_000);
  } finally {
    clearInterval(sampler);
    clearInterval(rssSampler);
  }
  assert.equal(o.error, null, `${o.error?.code}: ${o.error?.message}`);
  assertTreesEqual(fx.reference, where.dest);
  assert.equal(o.summary!.mode, 'ranged');
  assert.equal(o.summary!.bytesTotal, fx.size);
  assert.equal(o.summary!.bytesFetched, fx.size, 'every byte fetched once from a healthy origin');

  const bound = WINDOW * CHUNK + CHUNK;
  assert.ok(peakDisk > 0, 'the sampler saw staged chunks');
  assert.ok(peakDisk <= bound, `staged ${peakDisk} bytes on disk, bound ${bound}`);
  const windows = eventsOf(o.events, 'window');
  const peakEvents = Math.max(...windows.map((w) => w.stagedBytes));
  assert.ok(peakEvents <= bound, `window events report ${peakEvents} staged bytes`);
  assert.ok(
    windows.every((w) => w.inFlight + w.staged <= w.capacity),
    'never more chunks than the window holds',
  );
  assert.deepEqual(stagedOnDisk(where.stateDir), 0, 'no chunk left behind');
  assert.ok(nginx.accessLog().filter((l) => l.startsWith('GET') && l.includes(' 206 ')).length >= Math.ceil(fx.size / CHUNK));

  // The same file through curl | tar -xzf, for the record (not asserted: the machine is shared).
  const plainDir = join(dir, 'curl');
  await exec('mkdir', ['-p', plainDir]);
  const started = Date.now();
  await exec('sh', ['-c', `curl -s "$0" | tar -xzf - -C "$1"`, url, plainDir]);
  const curlMs = Date.now() - started;
  t.diagnostic(
    `archive ${(fx.size / 2 ** 20).toFixed(1)} MiB; engine ${o.ms} ms, curl|tar ${curlMs} ms (ratio ${(o.ms / curlMs).toFixed(2)}); ` +
      `peak staged ${(peakDisk / 2 ** 20).toFixed(1)} MiB (bound ${(bound / 2 ** 20).toFixed(0)} MiB); ` +
      `peak RSS of the test process ${(peakRss / 2 ** 20).toFixed(0)} MiB (${(rssBefore / 2 ** 20).toFixed(0)} MiB before)`,
  );
});

test('CLI download-only from nginx is byte-identical; a wrong --sha256 exits 4', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const dir = scratch(work, 'output');
  const expected = await sha256File(fx.archive);
  const output = join(dir, 'snapshot.tar.gz');
  const good = await runCli(['get', url, '--output', output, '--state-dir', join(dir, 'state-good'), '--chunk-size', '8M', '--sha256', expected, '--json'], 120_000);
  assert.equal(good.code, 0, `${good.stderr}\n${JSON.stringify(good.last)}`);
  assert.equal(good.last?.type, 'done');
  assert.equal(good.last?.sha256, expected);
  assert.equal(await sha256File(output), expected);

  const wrong = expected.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const bad = await runCli(['get', url, '--output', join(dir, 'other.tar.gz'), '--state-dir', join(dir, 'state-bad'), '--chunk-size', '8M', '--sha256', wrong, '--json'], 120_000);
  assert.equal(bad.code, 4, `${bad.stderr}\n${JSON.stringify(bad.last)}`);
  assert.equal(bad.last?.type, 'error');
  assert.equal(bad.last?.code, 'E_CHECKSUM_MISMATCH');
});

test('CLI get with --sha256 of the compressed file: extraction and verification in one pass', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const dir = scratch(work, 'sha-extract');
  const dest = join(dir, 'out');
  const r = await runCli(['get', url, '--dest', dest, '--state-dir', join(dir, 'state'), '--chunk-size', '8M', '--sha256', await sha256File(fx.archive), '--json'], 120_000);
  assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(r.last)}`);
  assertTreesEqual(fx.reference, dest);
});
