// A download-only job writes each range straight into the output at its offset (see
// engine/staging/output-file.ts): what a restart keeps is what the journal says was synced, refused answers
// never land in the file, a short body is continued from its last byte (never completed by the file's holes),
// and the checksum covers the whole file however the chunks completed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, type JobOptions } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { readJournal } from '../../electron/engine/staging/journal';
import { durableOutputOf } from '../../electron/engine/staging/output-record';
import { JOURNAL_FILE } from '../../electron/engine/state/layout';
import { FaultServer, chunkGet, faultAlways, faultTimes, rangedGet } from '../../harness/fault-server';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');
const KiB = 1024;

function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `sm-inplace-${label}-`));
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function withServer(label: string, fn: (server: FaultServer, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir(label);
  const server = await FaultServer.start();
  try {
    await fn(server, dir);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the CLI until the job has committed `fraction` of the file, then kills it with SIGKILL. */
async function killMidway(args: string[], fraction: number): Promise<{ committed: number }> {
  const child = spawn(process.execPath, [cli, 'get', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  let committed = 0;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the job did not reach ${fraction * 100}% in 60 s (at ${committed} bytes)`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const e = JSON.parse(line) as EngineEvent;
        if (e.type === 'progress' && e.bytesTotal) {
          committed = e.bytesCommitted;
          if (committed >= e.bytesTotal * fraction) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            resolve();
          }
        }
        if (e.type === 'done' || e.type === 'error') reject(new Error(`the job ended before it was killed: ${line}`));
      }
    });
  });
  await exited;
  return { committed };
}

test('kill -9 mid-download: the restart fetches again at most the window, and the output is byte-identical (with --sha256)', async () => {
  await withServer('kill', async (server, dir) => {
    const body = randomBytes(6 * 1024 * KiB);
    const url = await server.serve('/raw.bin', body);
    // ~1.6 MB/s per connection: the job is well under way, with rounds behind it, when it is killed.
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 16 * KiB, everyMs: 10 }));
    const out = join(dir, 'raw.bin');
    const stateDir = join(dir, 'state');
    const chunkSize = 512 * KiB;
    const window = 4;
    await killMidway([url, '--output', out, '--state-dir', stateDir, '--chunk-size', '512K', '--window', String(window), '--concurrency', '2', '--no-sidecar'], 0.5);
    const servedFirst = server.bodyBytesServed('/raw.bin');
    const { records } = await readJournal(join(stateDir, JOURNAL_FILE));
    const durable = [...durableOutputOf(records, (i) => Math.min(chunkSize, body.length - i * chunkSize)).chunks.values()].reduce((a, b) => a + b, 0);
    assert.ok(durable > 0, 'the killed run had made bytes durable and journaled them');
    assert.ok(durable <= servedFirst, 'nothing is journaled that was not received');
    server.setPlan(() => undefined);
    let kept = 0;
    const job = new Job({ url, output: out, stateDir, chunkSize, window, concurrency: 2, sha256: sha256(body) });
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'chunk' && e.state === 'done' && e.bytes === e.length) kept++;
    });
    const summary = await job.run();
    assert.ok(readFileSync(out).equals(body), 'the output equals the origin file');
    assert.equal(summary.sha256, sha256(body));
    const servedSecond = server.bodyBytesServed('/raw.bin') - servedFirst;
    assert.ok(servedSecond <= body.length - durable, `the restart fetched ${servedSecond} bytes; ${durable} were durable`);
    const fetchedTwice = servedFirst + servedSecond - body.length;
    assert.ok(fetchedTwice <= window * chunkSize, `${fetchedTwice} bytes were fetched twice: at most the window (${window * chunkSize})`);
    assert.ok(kept > 0, 'chunks made durable by the killed run are reported done, not fetched');
  });
});

test('a short body at an offset is continued from its last byte, never completed by the holes of the sized output', async () => {
  await withServer('short', async (server, dir) => {
    const chunkSize = 256 * KiB;
    const body = randomBytes(8 * chunkSize);
    const url = await server.serve('/raw.bin', body);
    const cutAt = 2 * chunkSize;
    server.setPlan(faultTimes(chunkGet(cutAt), { kind: 'cut', afterBytes: 100_000 }));
    const out = join(dir, 'raw.bin');
    await new Job({ url, output: out, stateDir: join(dir, 'state'), chunkSize, window: 4, concurrency: 4, retryBaseMs: 10 }).run();
    assert.ok(readFileSync(out).equals(body), 'the output equals the origin file');
    const ranges = server.requests.filter((r) => r.method === 'GET' && r.range && r.range.start >= cutAt && r.range.start < cutAt + chunkSize).map((r) => r.range!.start);
    assert.deepEqual(ranges, [cutAt, cutAt + 100_000], 'the retry asked for the rest of the chunk from the byte after the cut');
  });
});

test("an answer with another range's bytes (a wrong Content-Range) at an offset never lands in the output", async () => {
  await withServer('wrong-range', async (server, dir) => {
    const chunkSize = 256 * KiB;
    const body = randomBytes(8 * chunkSize);
    const url = await server.serve('/raw.bin', body);
    const at = 3 * chunkSize;
    // A proxy answering the chunk with the bytes (and the honest Content-Range) of the range 1000 bytes further on.
    server.setPlan(faultTimes(chunkGet(at), { kind: 'wrong-content-range', start: at + 1000, end: at + chunkSize + 999, honest: true }));
    const out = join(dir, 'raw.bin');
    const failed: string[] = [];
    const job = new Job({ url, output: out, stateDir: join(dir, 'state'), chunkSize, window: 4, concurrency: 4, retryBaseMs: 10 });
    job.on('event', (e: EngineEvent) => e.type === 'attempt-failed' && failed.push(`${e.index}: ${e.error.code} ${e.bytes}`));
    await job.run();
    assert.deepEqual(failed, ['3: E_CONTENT_RANGE 0'], 'refused before a byte of its body was taken');
    assert.ok(readFileSync(out).equals(body), 'the output equals the origin file');
  });
});

test('--sha256 and --md5 cover the whole output when the head chunk completes last', async () => {
  await withServer('order', async (server, dir) => {
    const chunkSize = 256 * KiB;
    const body = randomBytes(6 * chunkSize);
    const url = await server.serve('/raw.bin', body);
    // The head chunk trickles: every other chunk is complete (and hashed only once the head is) before it.
    server.setPlan(faultAlways(chunkGet(0), { kind: 'trickle', bytes: 16 * KiB, everyMs: 20 }));
    const md5 = createHash('md5').update(body).digest('hex');
    const staged: number[] = [];
    const job = new Job({ url, output: join(dir, 'raw.bin'), stateDir: join(dir, 'state'), chunkSize, window: 6, concurrency: 6, sha256: sha256(body), md5 });
    job.on('event', (e: EngineEvent) => e.type === 'chunk' && e.state === 'staged' && staged.push(e.index));
    const summary = await job.run();
    assert.equal(staged[staged.length - 1], 0, `the head chunk completed last (${staged.join(', ')})`);
    assert.equal(summary.sha256, sha256(body));
    assert.equal(summary.md5, md5);

    // A wrong checksum is exit 4, naming the digest.
    const wrong = new Job({ url, output: join(dir, 'again.bin'), stateDir: join(dir, 'state2'), chunkSize, window: 6, concurrency: 6, sha256: '0'.repeat(64) });
    await assert.rejects(wrong.run(), (err: { code?: string }) => err.code === 'E_CHECKSUM_MISMATCH');
  });
});

/** A job whose chunk 3 is missing at first: chunks 0-2 are durable in the output when it fails. */
async function failAfterThreeChunks(server: FaultServer, dir: string): Promise<{ body: Buffer; options: JobOptions }> {
  const body = randomBytes(400_000);
  const url = await server.serve('/raw.bin', body);
  server.setPlan((r) => (r.range?.start === 300_000 ? { kind: 'status', status: 404 } : undefined));
  const options = { url, output: join(dir, 'raw.bin'), stateDir: join(dir, 'state'), chunkSize: 100_000, window: 2, concurrency: 1, retryBaseMs: 10 };
  await assert.rejects(new Job(options).run(), (err: { code?: string }) => err.code === 'E_HTTP_STATUS');
  server.setPlan(() => undefined);
  return { body, options };
}

for (const [label, damage] of [
  ['deleted', (path: string) => rmSync(path)],
  [
    'replaced by another file of its length',
    (path: string) => {
      writeFileSync(`${path}.new`, randomBytes(statSync(path).size));
      renameSync(`${path}.new`, path);
    },
  ],
] as const) {
  test(`a restart after the output was ${label} between runs keeps none of it: everything is fetched again`, async () => {
    await withServer('gone', async (server, dir) => {
      const { body, options } = await failAfterThreeChunks(server, dir);
      damage(options.output!);
      const before = server.bodyBytesServed('/raw.bin');
      const warnings: string[] = [];
      const job = new Job(options);
      job.on('event', (e: EngineEvent) => e.type === 'warning' && warnings.push(e.code));
      await job.run();
      assert.ok(readFileSync(options.output!).equals(body), 'the output equals the origin file');
      assert.ok(warnings.includes('OUTPUT_SHORTER'), warnings.join(', '));
      assert.equal(server.bodyBytesServed('/raw.bin') - before, body.length);
    });
  });
}

test('a restart after a failure keeps the chunks the journal vouches for and fetches only the rest', async () => {
  await withServer('kept', async (server, dir) => {
    const { body, options } = await failAfterThreeChunks(server, dir);
    const before = server.bodyBytesServed('/raw.bin');
    await new Job(options).run();
    assert.ok(readFileSync(options.output!).equals(body));
    assert.equal(server.bodyBytesServed('/raw.bin') - before, 100_000, 'only chunk 3');
    assert.deepEqual(readdirSync(join(dir)).sort(), ['raw.bin'], 'no chunk file was ever staged; the state folder went with completion');
  });
});

test('a completed output truncated since (--keep-state) is not called done: the lost tail is fetched again', async () => {
  await withServer('done-truncated', async (server, dir) => {
    const body = randomBytes(400_000);
    const url = await server.serve('/raw.bin', body);
    const options = { url, output: join(dir, 'raw.bin'), stateDir: join(dir, 'state'), chunkSize: 100_000, window: 2, concurrency: 2, keepState: true };
    await new Job(options).run();
    truncateSync(options.output, 250_000);
    const before = server.bodyBytesServed('/raw.bin');
    const warnings: string[] = [];
    const job = new Job(options);
    job.on('event', (e: EngineEvent) => e.type === 'warning' && warnings.push(e.code));
    await job.run();
    assert.ok(!warnings.includes('ALREADY_COMPLETE'), warnings.join(', '));
    assert.ok(readFileSync(options.output).equals(body), 'the output equals the origin file');
    assert.equal(server.bodyBytesServed('/raw.bin') - before, 150_000, 'the bytes past the truncation, from there on');
  });
});

test('a mirror not proved the same object (no strong ETag, other bytes) that breaks mid-range: its prefix never stays in the output', async () => {
  const dir = tempDir('mirror');
  const primary = await FaultServer.start({ plan: faultAlways(rangedGet(), { kind: 'trickle', bytes: 8 * KiB, everyMs: 5 }) });
  const mirror = await FaultServer.start({ plan: (r) => (r.method === 'GET' ? { kind: 'cut', afterBytes: 40_000 } : undefined) });
  try {
    const body = randomBytes(1024 * KiB);
    const other = Buffer.from(body);
    for (let i = 0; i < other.length; i += 1000) other[i]! ^= 0xff;
    const url = await primary.serve('/raw.bin', body);
    const mirrorUrl = await mirror.serve('/raw.bin', other, { etag: null });
    const out = join(dir, 'raw.bin');
    await new Job({ url, mirrors: [mirrorUrl], output: out, stateDir: join(dir, 'state'), chunkSize: 128 * KiB, window: 6, concurrency: 4, retries: 6, retryBaseMs: 10 }).run();
    assert.ok(
      mirror.requests.some((r) => r.method === 'GET' && r.bytesSent > 0),
      'the mirror began ranges',
    );
    assert.equal(primary.requests.filter((r) => r.method === 'GET' && r.range && r.range.start % (128 * KiB) !== 0).length, 0, 'the primary continued no prefix the mirror began');
    assert.ok(readFileSync(out).equals(body), "the output is the primary's file: none of the mirror's bytes stayed");
  } finally {
    await primary.close();
    await mirror.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
