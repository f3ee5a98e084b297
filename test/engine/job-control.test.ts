// The job's own behaviour, against a real loopback origin: backpressure before requests, pause/resume without
// re-fetching committed bytes, "Retry now", and the attempt history the inspector shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Job } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer, faultAlways, faultTimes, rangedGet } from '../../harness/fault-server';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sm-job-'));
}

/** A tar of one big zero-filled file: tiny when gzipped, slow to write out, so extraction lags the network. */
function zeroTarGz(dir: string, mb: number): Buffer {
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'zeros.bin'), Buffer.alloc(mb * 1024 * 1024));
  const tar = execFileSync('tar', ['-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 30 });
  return gzipSync(tar, { level: 9 });
}

test('backpressure: no range is requested while the window is full of unconsumed chunks', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const archive = Buffer.concat([zeroTarGz(dir, 160), randomBytes(0)]);
    const url = await server.serve('/z.tar.gz', archive);
    const chunkSize = 16 * 1024;
    const window = 3;
    const consumedAt = new Map<number, number>();
    const job = new Job({ url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize, window, concurrency: 2 });
    let maxOccupied = 0;
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'chunk' && e.state === 'done') consumedAt.set(e.index, performance.now());
      if (e.type === 'window') {
        maxOccupied = Math.max(maxOccupied, e.slots.filter((s) => s.chunk !== null).length);
        assert.ok(e.inFlight <= 2, 'never more ranges in flight than --concurrency');
      }
    });
    const requestStart = new Map<number, number>();
    server.setPlan((r) => {
      if (r.range) requestStart.set(Math.floor(r.range.start / chunkSize), performance.now());
      return undefined;
    });
    await job.run();
    const chunks = Math.ceil(archive.length / chunkSize);
    assert.ok(chunks > window * 3, `enough chunks to fill the window (${chunks})`);
    assert.equal(maxOccupied, window, 'the window filled up: extraction was the bottleneck');
    for (let i = window; i < chunks; i++) {
      const asked = requestStart.get(i);
      const freed = consumedAt.get(i - window);
      assert.ok(asked !== undefined && freed !== undefined);
      assert.ok(asked >= freed, `chunk ${i} was requested only after chunk ${i - window} was consumed`);
    }
    assert.equal(server.bodyBytesServed('/z.tar.gz'), archive.length, 'every byte fetched exactly once');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pause tears ranges down, keeps committed bytes, and resume continues without re-fetching them', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const body = randomBytes(600_000);
    const url = await server.serve('/raw.bin', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 50 }));
    const out = join(dir, 'raw.bin');
    const job = new Job({ url, output: out, stateDir: join(dir, 'state'), chunkSize: 200_000, window: 3, concurrency: 3 });
    const states: string[] = [];
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'job-state') states.push(e.reason ? `${e.state}:${e.reason}` : e.state);
    });
    const done = job.run();
    await new Promise((r) => setTimeout(r, 300));
    job.pause('user');
    const pausedAt = Date.now();
    const servedAtPause = server.bodyBytesServed('/raw.bin');
    assert.ok(servedAtPause > 0 && servedAtPause < body.length);
    await new Promise((r) => setTimeout(r, 400));
    const startedWhilePaused = server.requests.filter((r) => r.method === 'GET' && r.startedAt > pausedAt + 50);
    assert.equal(startedWhilePaused.length, 0, 'no request is issued while paused');
    assert.ok(server.bodyBytesServed('/raw.bin') - servedAtPause < 3 * 4_096 + 1, 'in-flight bodies stopped');
    server.setPlan(() => undefined);
    job.resume();
    const summary = await done;
    assert.ok(readFileSync(out).equals(body));
    assert.deepEqual(states.slice(0, 4), ['probing', 'downloading', 'paused:user', 'downloading']);
    // Bytes already committed at the pause were not asked for again: every GET after the pause starts past them.
    const served = server.bodyBytesServed('/raw.bin');
    assert.ok(served <= body.length + 3 * 4_096, `served ${served} for ${body.length}`);
    assert.ok(summary.bytesFetched >= body.length && summary.bytesFetched <= served, 'fetched-byte accounting matches the server');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Retry now ends a long Retry-After wait, and the chunk history shows the failed attempt', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const body = randomBytes(100_000);
    const url = await server.serve('/raw.bin', body);
    server.setPlan(faultTimes(rangedGet(50_000), { kind: 'status', status: 503, retryAfter: 120 }));
    const job = new Job({ url, output: join(dir, 'raw.bin'), stateDir: join(dir, 'state'), chunkSize: 50_000, window: 2, concurrency: 2 });
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'retry-scheduled') {
        assert.equal(e.index, 1);
        assert.equal(e.delayMs, 120_000, 'Retry-After is honoured');
        setTimeout(() => job.retryChunkNow(1), 50);
      }
    });
    const t0 = Date.now();
    const summary = await job.run();
    assert.ok(Date.now() - t0 < 10_000, 'did not wait two minutes');
    assert.equal(summary.retries, 1);
    const history = job.chunkHistory(1);
    assert.equal(history.length, 2);
    assert.equal(history[0]!.status, 503);
    assert.equal(history[0]!.error?.code, 'E_HTTP_STATUS');
    assert.equal(history[1]!.error, null);
    assert.ok(readFileSync(join(dir, 'raw.bin')).equals(body));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cancel stops the job with E_ABORTED and keeps its state for a resume', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const body = randomBytes(400_000);
    const url = await server.serve('/raw.bin', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 50 }));
    const opts = { url, output: join(dir, 'raw.bin'), stateDir: join(dir, 'state'), chunkSize: 100_000, window: 2, concurrency: 2 };
    const job = new Job(opts);
    const run = job.run();
    await new Promise((r) => setTimeout(r, 700));
    job.cancel();
    await assert.rejects(run, (err: unknown) => (err as { code?: string }).code === 'E_ABORTED');
    const servedFirst = server.bodyBytesServed('/raw.bin');
    server.setPlan(() => undefined);
    await new Job(opts).run();
    assert.ok(readFileSync(join(dir, 'raw.bin')).equals(body));
    const servedSecond = server.bodyBytesServed('/raw.bin') - servedFirst;
    assert.ok(servedSecond < body.length, `the re-run fetched ${servedSecond} of ${body.length} bytes: committed bytes were kept`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoints off: the same tree, a warning that says so up front, and no checkpoint taken', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(src, 'sub', `f${i}.bin`), randomBytes(20_000 + i));
    const archive = gzipSync(execFileSync('tar', ['-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 30 }));
    const url = await server.serve('/s.tar.gz', archive);
    const warnings: string[] = [];
    const job = new Job({ url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: 64 * 1024, window: 3, checkpoints: false });
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'warning') warnings.push(`${e.code}: ${e.message}`);
    });
    await job.run();
    for (let i = 0; i < 40; i++) assert.deepEqual(readFileSync(join(dir, 'out', 'sub', `f${i}.bin`)), readFileSync(join(src, 'sub', `f${i}.bin`)));
    assert.equal(job.checkpointStats.count, 0);
    assert.ok(
      warnings.some((w) => w.startsWith('CHECKPOINT_UNSUPPORTED') && w.includes('checkpoints are turned off')),
      warnings.join('\n'),
    );
    assert.throws(() => new Job({ url, output: join(dir, 'o.bin'), stateDir: join(dir, 'state2'), checkpoints: false }), /--no-checkpoints applies to extraction/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a restart without a checkpoint keeps the files the earlier run completed (size and mtime verified) and writes the rest again', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    for (let i = 0; i < 60; i++) writeFileSync(join(src, 'd', `f${String(i).padStart(2, '0')}.bin`), randomBytes(15_000 + i));
    // GNU tar stamps whole-second mtimes; the archive order is the name order.
    const archive = gzipSync(execFileSync('tar', ['-cf', '-', '--sort=name', '-C', src, '.'], { maxBuffer: 1 << 30 }), { level: 1 });
    const url = await server.serve('/s.tar.gz', archive);
    const chunkSize = 64 * 1024;
    const failAt = Math.floor(archive.length * 0.6);
    server.setPlan(faultAlways(rangedGet(failAt), { kind: 'status', status: 404 }));
    const dest = join(dir, 'out');
    const stateDir = join(dir, 'state');
    const options = { url, dest, stateDir, chunkSize, window: 2, concurrency: 1, checkpoints: false };
    await assert.rejects(new Job(options).run(), /404/);
    const firstRun = readdirSync(join(dest, 'd')).sort();
    assert.ok(firstRun.length >= 10 && firstRun.length < 60, `the first run stopped part way (${firstRun.length} files)`);
    // One completed file loses its tail, another gets a different mtime: neither may be kept.
    const cut = join(dest, 'd', firstRun[0]!);
    truncateSync(cut, 100);
    const retimed = join(dest, 'd', firstRun[1]!);
    utimesSync(retimed, new Date(), new Date(Date.now() - 3_600_000));

    server.setPlan(() => undefined);
    const warnings: Array<{ code: string; message: string }> = [];
    const job = new Job(options);
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'warning') warnings.push({ code: e.code, message: e.message });
    });
    const summary = await job.run();
    for (const name of readdirSync(join(src, 'd'))) assert.deepEqual(readFileSync(join(dest, 'd', name)), readFileSync(join(src, 'd', name)), name);
    const kept = warnings.find((w) => w.code === 'FILES_KEPT');
    assert.ok(kept, JSON.stringify(warnings));
    const keptCount = Number(/^(\d+) files/.exec(kept.message)![1]);
    // The last file listed may have been cut by the failure; the two spoiled ones are rewritten.
    assert.ok(keptCount >= firstRun.length - 3 && keptCount <= firstRun.length - 2, `kept ${keptCount} of ${firstRun.length}`);
    assert.ok(summary.bytesWritten < 60 * 15_000, 'kept files were not written again');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files in a destination the job did not find empty are never kept as complete (--force)', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.bin'), randomBytes(30_000));
    const archive = gzipSync(execFileSync('tar', ['-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 30 }));
    const url = await server.serve('/f.tar.gz', archive);
    const dest = join(dir, 'out');
    mkdirSync(dest);
    // The operator's own file with the member's name, size and mtime, but other bytes.
    const impostor = join(dest, 'a.bin');
    writeFileSync(impostor, randomBytes(30_000));
    const st = statSync(join(src, 'a.bin'));
    utimesSync(impostor, st.atime, st.mtime);
    server.setPlan(faultTimes(rangedGet(0), { kind: 'status', status: 404 }));
    const options = { url, dest, stateDir: join(dir, 'state'), chunkSize: 16 * 1024, checkpoints: false, force: true };
    await assert.rejects(new Job(options).run(), /404/);
    await new Job(options).run();
    assert.deepEqual(readFileSync(impostor), readFileSync(join(src, 'a.bin')));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('regression: a pause while the job was still probing was undone when the probe answered (the job said "downloading" behind a closed gate)', async () => {
  const dir = tempDir();
  const server = await FaultServer.start();
  try {
    const archive = randomBytes(600_000);
    const url = await server.serve('/slow-probe.bin', archive);
    const job = new Job({ url, output: join(dir, 'out.bin'), stateDir: join(dir, 'state'), chunkSize: 1024 * 1024, window: 2, concurrency: 1 });
    const states: string[] = [];
    let probed = false;
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'job-state') states.push(e.state);
      if (e.type === 'probed') probed = true;
    });
    // Paused while the probe's request is at the origin, before it is answered.
    let pausedAtProbe = false;
    server.setPlan(() => {
      if (!pausedAtProbe) {
        pausedAtProbe = true;
        job.pause('user');
      }
      return undefined;
    });
    const run = job.run();
    const until = Date.now() + 10_000;
    while (!probed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(probed, 'the probe answered');
    assert.equal(states.at(-1), 'paused', `states: ${states.join(' → ')}`);
    job.resume();
    await run;
    assert.equal(states.at(-1), 'done');
    assert.deepEqual(readFileSync(join(dir, 'out.bin')), archive);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
