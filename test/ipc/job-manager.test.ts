// The job manager: jobs and settings survive a restart (restored paused, resumable to the end), pauseAll
// and resumeAll undo only their own reason, and a crashed engine worker fails its jobs resumably.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { lockHolder } from '../../electron/engine/state/job-lock';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FaultServer, chunkGet, faultTimes } from '../../harness/fault-server';
import { JobManager } from '../../electron/host/job-manager';
import { InProcessRunner } from '../../electron/engine/runner/in-process-runner';
import { WorkerRunner } from '../../electron/engine/runner/worker-runner';
import { Job } from '../../electron/engine/job/job';
import { makeTarGz, tempDir, waitFor } from './helpers';

const MiB = 1024 * 1024;
let origin: FaultServer;
let dirs: ReturnType<typeof tempDir>;
let contents: Map<string, Buffer>;

before(async () => {
  dirs = tempDir('manager');
  const made = await makeTarGz(4, MiB);
  contents = made.contents;
  origin = await FaultServer.start();
  await origin.serve('/snap.tar.gz', made.archive);
});

after(async () => {
  await origin?.close();
  dirs?.cleanup();
});

const inProcess = (): InProcessRunner => new InProcessRunner((o, id) => new Job(o, id));

test('jobs and settings survive a restart: restored paused with their chunk map, then resumed to the end', async () => {
  const dataDir = join(dirs.path, 'data-restart');
  const dest = join(dirs.path, 'dest-restart');
  const first = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20 } });
  await first.updateSettings({ chunkSize: MiB, window: 2, keepAwake: true, idleTimeoutMs: 12_000 });
  const job = await first.add({ url: origin.url('/snap.tar.gz'), dest, limitRate: 1024 * 1024, idleTimeoutMs: 7_000 });
  assert.equal(first.view(job.id).options.idleTimeoutMs, 7_000, 'the idle timeout asked for');
  await waitFor(() => first.get(job.id).chunks.filter((c) => c.state === 'done').length >= 1, 15_000, 'a chunk done');
  const doneBefore = first.get(job.id).chunks.filter((c) => c.state === 'done').length;
  await first.close();

  const stored = JSON.parse(readFileSync(join(dataDir, 'jobs.json'), 'utf8')) as { jobs: Array<{ id: string; state: string }> };
  assert.deepEqual(
    stored.jobs.map((j) => [j.id, j.state]),
    [[job.id, 'paused']],
  );

  const second = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20 } });
  try {
    assert.equal(second.settings().chunkSize, MiB);
    assert.equal(second.settings().keepAwake, true);
    assert.equal(second.settings().idleTimeoutMs, 12_000);
    assert.equal(second.view(job.id).options.idleTimeoutMs, 7_000);
    const restored = second.get(job.id);
    assert.equal(restored.state, 'paused');
    assert.equal(restored.pauseReason, 'user');
    assert.equal(restored.url, origin.url('/snap.tar.gz'));
    assert.ok(restored.chunks.filter((c) => c.state === 'done').length >= doneBefore, 'done chunks are shown again');
    assert.ok(
      restored.chunks.every((c) => c.state === 'done' || c.state === 'pending'),
      'nothing in flight after a restart',
    );
    assert.equal(second.isRunning(job.id), false);
    second.resume(job.id);
    await waitFor(() => second.view(job.id).state === 'done', 30_000, 'done after resume');
    for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);
  } finally {
    await second.close();
  }
});

test('after a restart a job that was running resumes by itself and one the operator paused stays paused', async () => {
  const dataDir = join(dirs.path, 'data-restart-states');
  const first = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20 } });
  const slow = { url: origin.url('/snap.tar.gz'), chunkSize: MiB, window: 2, limitRate: 512 * 1024 };
  const running = await first.add({ ...slow, dest: join(dirs.path, 'dest-running') });
  const paused = await first.add({ ...slow, dest: join(dirs.path, 'dest-paused') });
  await waitFor(() => first.view(running.id).state === 'downloading' && first.view(paused.id).state === 'downloading', 10_000, 'both downloading');
  first.pause(paused.id);
  await waitFor(() => first.view(paused.id).state === 'paused', 5_000, 'paused by the operator');
  await first.close();

  const second = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20 } });
  try {
    assert.deepEqual(second.startRestored(), [running.id], 'only the running job is started again');
    await waitFor(() => second.view(running.id).state === 'downloading', 10_000, 'the running job runs again');
    assert.equal(second.view(paused.id).state, 'paused');
    assert.equal(second.view(paused.id).pauseReason, 'user');
    assert.equal(second.isRunning(paused.id), false);
    await waitFor(() => second.view(running.id).state === 'done', 30_000, 'the resumed job finishes');
    for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dirs.path, 'dest-running', name)), body, name);
  } finally {
    await second.close();
  }
});

test('a second process on the same state folder is refused with the holder named; a stale lock is taken over', async () => {
  const dataDir = join(dirs.path, 'data-locked');
  mkdirSync(dataDir, { recursive: true });
  // Another live process holds the folder (a second `serve`): its pid is in the lock.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dataDir, 'manager.lock'), JSON.stringify({ pid: other.pid, host: hostname(), startedAt: Date.now() }));
    await assert.rejects(
      JobManager.open({ dataDir, runner: inProcess() }),
      (err: Error & { code?: string }) => err.code === 'E_LOCKED' && err.message.includes(`process ${other.pid}`) && err.message.includes(dataDir),
    );
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
  }
  // Its process is gone: the lock is stale, the folder opens, and closing gives the lock back.
  const m = await JobManager.open({ dataDir, runner: inProcess() });
  assert.equal((await lockHolder(dataDir, 'manager.lock'))?.holder.pid, process.pid);
  await m.close();
  assert.deepEqual(
    readdirSync(dataDir).filter((n) => n.startsWith('manager.lock')),
    [],
    'no lock generation is left',
  );
});

test('each job keeps a log (failed attempts, retries, the outcome) in a bounded ring and in job.log, shown again after a restart', async () => {
  const dataDir = join(dirs.path, 'data-log');
  const busy = await FaultServer.start({ plan: faultTimes(chunkGet(MiB), { kind: 'status', status: 503, body: 'busy' }) });
  const made = await makeTarGz(3, MiB);
  const url = await busy.serve('/busy.tar.gz', made.archive);
  const m = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20 } });
  try {
    const job = await m.add({ url, dest: join(dirs.path, 'dest-log'), chunkSize: MiB, window: 2 });
    await waitFor(() => m.view(job.id).state === 'done', 30_000, 'done');
    await m.logsFlushed();
    const lines = m.jobLog(job.id).map((e) => `${e.level} ${e.text}`);
    assert.ok(
      lines.some((l) => l.startsWith(`info added: ${url}`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^warn chunk 1 attempt 1 failed after \d+ ms, \d+ bytes, HTTP 503: E_HTTP_STATUS/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^info chunk 1 attempt 2 in \d+ ms \(E_HTTP_STATUS\)/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith('info done:')),
      lines.join('\n'),
    );
    const file = readFileSync(join(m.logDirOf(job.id), 'job.log'), 'utf8');
    assert.match(file, /^\d{4}-\d\d-\d\dT[\d:.]+Z info  added: /m);
    assert.match(file, /HTTP 503/);
    await m.close();
    const again = await JobManager.open({ dataDir, runner: inProcess() });
    try {
      assert.deepEqual(
        again.jobLog(job.id).map((e) => e.text),
        m.jobLog(job.id).map((e) => e.text),
        'the same lines after a restart',
      );
    } finally {
      await again.close();
    }
  } finally {
    await m.close();
    await busy.close();
  }
});

test('attempt history survives a restart: the inspector of a failed chunk still shows the earlier attempts (from the journal), and the chunk still reads failed', async () => {
  const dataDir = join(dirs.path, 'data-history');
  const busy = await FaultServer.start({ plan: (r) => (r.method === 'GET' && r.range?.start === MiB ? { kind: 'status', status: 503, body: 'busy' } : undefined) });
  try {
    const made = await makeTarGz(3, MiB);
    const url = await busy.serve('/always-busy.tar.gz', made.archive);
    const m = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20, retryCapMs: 40 } });
    let id = '';
    let before: Array<[number, string | undefined, number | null]> = [];
    try {
      id = (await m.add({ url, dest: join(dirs.path, 'dest-history'), chunkSize: MiB, window: 2 })).id;
      await waitFor(() => m.view(id).state === 'failed', 30_000, 'failed');
      assert.equal(m.view(id).error?.code, 'E_RETRIES_EXHAUSTED');
      before = (await m.chunkHistory(id, 1)).map((a) => [a.attempt, a.error?.code, a.status]);
      assert.ok(before.length >= 3, JSON.stringify(before));
      assert.deepEqual(
        before,
        before.map((_, i) => [i + 1, 'E_HTTP_STATUS', 503]),
      );
    } finally {
      await m.close();
    }
    const again = await JobManager.open({ dataDir, runner: inProcess() });
    try {
      assert.equal(again.view(id).state, 'failed');
      const after = await again.chunkHistory(id, 1);
      assert.deepEqual(
        after.map((a) => [a.attempt, a.error?.code, a.status]),
        before,
        'the attempts of the run before the restart',
      );
      assert.ok(after.every((a) => a.rangeStart === MiB && a.durationMs >= 0));
      assert.equal(again.get(id).chunks[1]?.state, 'failed', 'the chunk the job failed on is still marked');
    } finally {
      await again.close();
    }
  } finally {
    await busy.close();
  }
});

test('a corrupt job list falls back to the previous generation', async () => {
  const dataDir = join(dirs.path, 'data-corrupt');
  const m = await JobManager.open({ dataDir, runner: inProcess() });
  const job = await m.add({ url: origin.url('/snap.tar.gz'), dest: join(dirs.path, 'dest-corrupt') });
  m.pause(job.id);
  await m.close();
  // A second write so that a previous generation exists, then the current one is torn.
  const again = await JobManager.open({ dataDir, runner: inProcess() });
  await again.updateSettings({ window: 3 });
  await again.close();
  writeFileSync(join(dataDir, 'jobs.json'), '{"version":1,"jobs":[{"id":');
  const reopened = await JobManager.open({ dataDir, runner: inProcess() });
  try {
    assert.deepEqual(
      reopened.list().map((j) => j.id),
      [job.id],
    );
  } finally {
    await reopened.close();
  }
});

test('pauseAll and resumeAll undo only their own reason and never resume a job the operator paused', async () => {
  const m = await JobManager.open({ dataDir: join(dirs.path, 'data-suspend'), runner: inProcess() });
  try {
    const slow = { url: origin.url('/snap.tar.gz'), limitRate: 128 * 1024, chunkSize: MiB };
    const a = await m.add({ ...slow, dest: join(dirs.path, 'dest-a') });
    const b = await m.add({ ...slow, dest: join(dirs.path, 'dest-b') });
    await waitFor(() => m.view(a.id).state === 'downloading' && m.view(b.id).state === 'downloading', 10_000, 'both downloading');
    m.pause(b.id);
    await waitFor(() => m.view(b.id).state === 'paused', 5_000, 'b paused');

    assert.deepEqual(m.pauseAll('suspend'), [a.id]);
    await waitFor(() => m.view(a.id).state === 'paused', 5_000, 'a paused');
    assert.equal(m.view(a.id).pauseReason, 'suspend');
    m.pauseAll('offline');
    assert.deepEqual(m.resumeAll('suspend'), [], 'still offline');
    assert.equal(m.view(a.id).state, 'paused');
    assert.deepEqual(m.resumeAll('offline'), [a.id]);
    await waitFor(() => m.view(a.id).state === 'downloading', 5_000, 'a resumed');
    assert.equal(m.view(b.id).state, 'paused', 'the operator paused b: it stays paused');
    assert.equal(m.view(b.id).pauseReason, 'user');
    m.cancel(a.id);
    m.cancel(b.id);
    await waitFor(() => m.view(a.id).state === 'cancelled' && m.view(b.id).state === 'cancelled', 10_000, 'cancelled');
  } finally {
    await m.close();
  }
});

test('a crashed engine worker fails its jobs as retryable, and they resume on a fresh worker', async () => {
  // A job module whose run never ends and whose constructor kills the thread on demand.
  const modDir = join(dirs.path, 'crash-module');
  mkdirSync(modDir, { recursive: true });
  const modulePath = join(modDir, 'job.js');
  writeFileSync(
    modulePath,
    `const { EventEmitter } = require('node:events');
const real = require(${JSON.stringify(join(__dirname, '..', '..', 'electron', 'engine', 'job', 'job.js'))});
class Job extends EventEmitter {
  constructor(options, id) {
    super();
    if (options.url.endsWith('#crash')) setTimeout(() => process.exit(3), 50);
    this.inner = new real.Job({ ...options, url: options.url.replace('#crash', '') }, id);
    this.inner.on('event', (e) => this.emit('event', e));
    this.id = id;
  }
  run() { return this.inner.run(); }
  pause(r) { this.inner.pause(r); }
  resume() { this.inner.resume(); }
  cancel() { this.inner.cancel(); }
  retryChunkNow(i) { this.inner.retryChunkNow(i); }
  setRateLimit(r) { this.inner.setRateLimit(r); }
  chunkHistory(i) { return this.inner.chunkHistory(i); }
}
module.exports = { Job };
`,
  );
  const m = await JobManager.open({ dataDir: join(dirs.path, 'data-crash'), runner: new WorkerRunner({ jobModule: modulePath }) });
  try {
    const job = await m.add({ url: `${origin.url('/snap.tar.gz')}#crash`, dest: join(dirs.path, 'dest-crash'), limitRate: 256 * 1024, chunkSize: MiB });
    const failed = await waitFor(() => (m.view(job.id).state === 'failed' ? m.view(job.id) : null), 10_000, 'failed');
    assert.equal(failed.error?.code, 'E_INTERNAL');
    assert.equal(failed.error?.retryable, true);
    const ok = await m.add({ url: origin.url('/snap.tar.gz'), dest: join(dirs.path, 'dest-after-crash'), chunkSize: MiB });
    await waitFor(() => m.view(ok.id).state === 'done', 30_000, 'a job on the fresh worker');
  } finally {
    await m.close();
  }
});

test('a job added with mirrors: the mirror serves ranges, and the job view lists both sources', async () => {
  const dataDir = join(dirs.path, 'data-mirrors');
  const mirror = await FaultServer.start();
  const made = await makeTarGz(4, MiB);
  const url = await origin.serve('/mirrored.tar.gz', made.archive);
  const mirrorUrl = await mirror.serve('/mirrored.tar.gz', made.archive);
  const m = await JobManager.open({ dataDir, runner: inProcess(), engineOptions: { retryBaseMs: 20 } });
  try {
    const job = await m.add({ url, dest: join(dirs.path, 'dest-mirrors'), chunkSize: MiB, window: 4, concurrency: 4, mirrors: [mirrorUrl] });
    await waitFor(() => m.view(job.id).state === 'done', 30_000, 'done');
    const sources = m.view(job.id).sources ?? [];
    assert.deepEqual(
      sources.map((s) => [s.role, s.state]),
      [
        ['primary', 'active'],
        ['mirror', 'active'],
      ],
    );
    assert.equal(
      sources.reduce((n, s) => n + s.bytes, 0),
      made.archive.length,
      'every byte from one source or the other, once',
    );
    assert.ok(mirror.requestsFor('/mirrored.tar.gz', 'GET').length > 0, 'the mirror served ranges');
  } finally {
    await m.close();
    await mirror.close();
  }
});
