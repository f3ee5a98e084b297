// Part files are continued after a restart only as far as the journal vouches for their bytes. Extraction
// stages its chunks in part files (a download-only job writes into its output instead: output-in-place.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, type JobOptions } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer, faultAlways, rangedGet } from '../../harness/fault-server';

/** A plain tar of one file of `length` random bytes: the archive, and the file it extracts to (`raw.bin`). */
function tarOf(dir: string, length: number): { archive: Buffer; file: Buffer } {
  const src = join(dir, 'src');
  mkdirSync(src);
  const file = randomBytes(length);
  writeFileSync(join(src, 'raw.bin'), file);
  return { archive: execFileSync('tar', ['-cf', '-', '-C', src, 'raw.bin'], { maxBuffer: 1 << 28 }), file };
}

/**
 * Resolves once `count` chunks each have at least `minBytes` in their part files (the job's chunk events say
 * so): a fixed sleep before the stop left no part at all when a loaded machine was slow to start the job.
 */
function untilParts(job: Job, count: number, minBytes = 32 * 1024): Promise<void> {
  return new Promise((resolve, reject) => {
    const seen = new Set<number>();
    const timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${count} chunks reached ${minBytes} bytes in 30 s`)), 30_000);
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'chunk' && e.state === 'fetching' && e.bytes >= minBytes) seen.add(e.index);
      if (seen.size >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Runs a job until `count` of its chunks have bytes in their part files, then stops it; resolves with the run's end. */
async function stopWithParts(options: JobOptions, count: number): Promise<unknown> {
  const first = new Job(options);
  const started = untilParts(first, count);
  const stopped = first.run().catch((err: { code?: string }) => err.code);
  await started;
  first.cancel();
  return stopped;
}

/** What a power loss may leave in a part: its size intact, a page in its middle never written back (zeros). */
function zeroMiddlePage(path: string): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4_096), 0, 4_096, Math.floor(statSync(path).size / 2));
  closeSync(fd);
}

test('.part files are resumed unverified: zeros a power loss left in a part were kept as data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-part-'));
  const server = await FaultServer.start();
  try {
    const { archive: body, file } = tarOf(dir, 800_000);
    const url = await server.serve('/raw.tar', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 20 }));
    const options: JobOptions = { url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: 400_000, window: 2, concurrency: 2, retryBaseMs: 10 };
    assert.equal(await stopWithParts(options, 2), 'E_ABORTED');
    const parts = readdirSync(options.stateDir).filter((n) => /^chunk-\d+\.part$/.test(n) && statSync(join(options.stateDir, n)).size > 8_192);
    assert.ok(parts.length > 0, 'the stopped run left parts');
    // What a power loss may leave: the size is there, some pages never reached the disk and read as zeros.
    for (const name of parts) {
      zeroMiddlePage(join(options.stateDir, name));
    }
    server.setPlan(() => undefined);
    const warnings: string[] = [];
    const second = new Job(options);
    second.on('event', (e: EngineEvent) => e.type === 'warning' && warnings.push(e.code));
    await second.run();
    assert.ok(readFileSync(join(options.dest!, 'raw.bin')).equals(file), 'the extracted file equals the original');
    assert.equal(warnings.filter((c) => c === 'E_PART_INVALID').length, parts.length, warnings.join(', '));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a part whose journaled prefix still matches is continued, not fetched again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-part2-'));
  const server = await FaultServer.start();
  try {
    const { archive: body, file } = tarOf(dir, 800_000);
    const url = await server.serve('/raw.tar', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 20 }));
    const options: JobOptions = { url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: 400_000, window: 2, concurrency: 2, retryBaseMs: 10 };
    await stopWithParts(options, 2);
    const kept = readdirSync(options.stateDir)
      .filter((n) => /^chunk-\d+\.part$/.test(n))
      .reduce((n, name) => n + statSync(join(options.stateDir, name)).size, 0);
    assert.ok(kept > 0);
    server.setPlan(() => undefined);
    const before = server.requests.length;
    let fetched = 0;
    const second = new Job(options);
    second.on('event', (e: EngineEvent) => {
      if (e.type === 'done') fetched = e.bytesFetched;
    });
    await second.run();
    assert.ok(readFileSync(join(options.dest!, 'raw.bin')).equals(file));
    assert.equal(fetched, body.length - kept, `only what the parts lacked was fetched (${server.requests.length - before} requests)`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kept data that keeps failing its checks says to run the job with --restart (from the third dropped part on)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-part3-'));
  const server = await FaultServer.start();
  try {
    // Each connection leaves a part, but for the head chunk's: its bytes go to the consumer in memory once it
    // has caught up (see chunk-tap.ts). Four connections, so that three parts are left to corrupt.
    const { archive: body, file } = tarOf(dir, 2_000_000);
    const url = await server.serve('/raw.tar', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 20 }));
    const options: JobOptions = { url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: 500_000, window: 4, concurrency: 4, retryBaseMs: 10 };
    await stopWithParts(options, 4);
    const parts = readdirSync(options.stateDir).filter((n) => /^chunk-\d+\.part$/.test(n) && statSync(join(options.stateDir, n)).size > 8_192);
    assert.ok(parts.length >= 3, `the connections past the head chunk left parts: ${parts.join(', ')}`);
    for (const name of parts) {
      zeroMiddlePage(join(options.stateDir, name));
    }
    server.setPlan(() => undefined);
    const dropped: string[] = [];
    const second = new Job(options);
    second.on('event', (e: EngineEvent) => e.type === 'warning' && e.code === 'E_PART_INVALID' && dropped.push(e.message));
    await second.run();
    assert.ok(readFileSync(join(options.dest!, 'raw.bin')).equals(file), 'the extracted file equals the original');
    assert.equal(dropped.length, parts.length);
    assert.deepEqual(
      dropped.map((m) => m.includes('run it with --restart')),
      parts.map((_, i) => i >= 2),
      'one dropped part is a power loss; three say the kept data cannot be trusted',
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
