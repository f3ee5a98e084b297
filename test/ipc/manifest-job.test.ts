// "Add from manifest" through the job manager, over the in-process runner and the worker thread: a snapshot
// in three parts runs as one job with a parts list (name, size, state, checksum verdict); a pause holds across
// parts and a resume finishes; a restart mid-job skips the parts done (not fetched again); a wrong checksum
// fails the job on that part, naming it, with the parts before it kept; pasted text is parsed, never read
// as a path on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { FaultServer } from '../../harness/fault-server';
import { JobManager } from '../../electron/host/job-manager';
import { InProcessRunner } from '../../electron/engine/runner/in-process-runner';
import { WorkerRunner } from '../../electron/engine/runner/worker-runner';
import type { JobRunner } from '../../electron/engine/runner/runner';
import { Job } from '../../electron/engine/job/job';
import { PartsRun } from '../../electron/engine/parts/parts-run';
import { tempDir, waitFor } from './helpers';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let origin: FaultServer;
let dirs: ReturnType<typeof tempDir>;
const contents = new Map<string, Buffer>();
const archives: Buffer[] = [];

async function partArchive(n: number, files: number): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (let i = 0; i < files; i++) {
    const name = `data/part-${n}/file-${i}.bin`;
    const body = randomBytes(MiB);
    contents.set(name, body);
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: body.length }, body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks), { level: 1 });
}

function csv(digests: string[] = archives.map(sha256)): string {
  return ['filename,URL,sha256,size', ...archives.map((a, i) => `part${i + 1}.tar.gz,${origin.url(`/p/part${i + 1}.tar.gz`)},${digests[i]},${a.length}`)].join('\n') + '\n';
}

before(async () => {
  dirs = tempDir('manifest-job');
  origin = await FaultServer.start();
  for (const n of [1, 2, 3]) {
    const a = await partArchive(n, 2);
    archives.push(a);
    await origin.serve(`/p/part${n}.tar.gz`, a);
  }
  await origin.serve('/p/manifest.csv', Buffer.from(csv()));
});
after(async () => {
  await origin?.close();
  dirs?.cleanup();
});

const runners = [
  ['in-process', (): JobRunner => new InProcessRunner((o, id) => (o.parts?.length ? new PartsRun(o, id) : new Job(o, id)))],
  ['worker', (): JobRunner => new WorkerRunner()],
] as const;

for (const [label, runner] of runners) {
  test(`manifest job (${label}): three parts into one folder, each verified; a pause holds across parts; a restart skips the parts done`, async () => {
    const dataDir = join(dirs.path, `data-${label}`);
    const dest = join(dirs.path, `dest-${label}`);
    const first = await JobManager.open({ dataDir, runner: runner(), engineOptions: { retryBaseMs: 20 } });
    await first.updateSettings({ chunkSize: MiB, window: 2, concurrency: 2, limitRate: 2 * MiB });
    const job = await first.addManifest({ manifest: origin.url('/p/manifest.csv'), dest });
    assert.deepEqual(
      job.parts?.map((p) => [p.name, p.size, p.state, p.hasChecksum]),
      archives.map((a, i) => [`part${i + 1}.tar.gz`, a.length, 'waiting', true]),
    );
    // Paused while part 2 runs; it stays paused.
    await waitFor(() => first.view(job.id).parts?.[1]?.state === 'downloading', 20_000, 'part 2 downloading');
    first.pause(job.id);
    await waitFor(() => first.view(job.id).state === 'paused', 10_000, 'paused');
    const fetchedAtPause = origin.bodyBytesServed();
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(origin.bodyBytesServed() - fetchedAtPause < 512 * 1024, 'nothing much fetched while paused');
    assert.equal(first.view(job.id).parts?.[0]?.checksum, 'ok');
    await first.close();

    // A restart: part 1 is done and not fetched again.
    const from = origin.requests.length;
    const second = await JobManager.open({ dataDir, runner: runner(), engineOptions: { retryBaseMs: 20 } });
    try {
      second.resume(job.id);
      // The summary follows the state 'done' in an event of its own (through the worker, in a later message).
      await waitFor(
        () => {
          const v = second.view(job.id);
          return v.state === 'failed' || (v.state === 'done' && v.summary !== null && v.summary !== undefined);
        },
        40_000,
        'the job to end',
      );
      const v = second.view(job.id);
      assert.equal(v.state, 'done', JSON.stringify(v.error));
      assert.deepEqual(
        v.parts?.map((p) => [p.state, p.checksum]),
        [
          ['done', 'ok'],
          ['done', 'ok'],
          ['done', 'ok'],
        ],
      );
      for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);
      assert.equal(origin.requests.slice(from).filter((r) => r.path === '/p/part1.tar.gz').length, 0, 'part 1 not fetched again');
      assert.equal(v.summary?.entries, 6, 'the summary counts every part');
      const log = (await second.jobLog(job.id)).map((l) => l.text).join('\n');
      assert.match(log, /part 3: done \(checksum ok\)/);
    } finally {
      await second.close();
    }
  });
}

test('manifest job: a wrong checksum fails the job on that part, naming it; the parts before it are kept', async () => {
  const dataDir = join(dirs.path, 'data-mismatch');
  const dest = join(dirs.path, 'dest-mismatch');
  const m = await JobManager.open({ dataDir, runner: runners[0][1](), engineOptions: { retryBaseMs: 20 } });
  try {
    await m.updateSettings({ chunkSize: MiB, window: 2, concurrency: 2 });
    const digests = archives.map(sha256);
    digests[1] = '0'.repeat(64);
    const job = await m.addManifest({ manifest: csv(digests), dest });
    await waitFor(() => ['done', 'failed'].includes(m.view(job.id).state), 30_000, 'the job to end');
    const v = m.view(job.id);
    assert.equal(v.state, 'failed');
    assert.equal(v.error?.code, 'E_CHECKSUM_MISMATCH', JSON.stringify(v.error));
    assert.match(v.error?.message ?? '', /part 2 of 3 \(part2\.tar\.gz\)/);
    assert.deepEqual(
      v.parts?.map((p) => [p.state, p.checksum]),
      [
        ['done', 'ok'],
        ['failed', 'mismatch'],
        ['waiting', null],
      ],
    );
    for (const [name, body] of contents) if (name.startsWith('data/part-1/')) assert.deepEqual(readFileSync(join(dest, name)), body, name);
  } finally {
    await m.close();
  }
});

test('manifest job: pasted text is parsed, never read as a path on the host', async () => {
  const m = await JobManager.open({ dataDir: join(dirs.path, 'data-paste'), runner: runners[0][1](), engineOptions: { retryBaseMs: 20 } });
  try {
    await assert.rejects(
      m.addManifest({ manifest: '/etc/passwd', dest: join(dirs.path, 'dest-paste') }),
      (err: Error) => /is a relative URL|no column|lists no parts|URL/.test(err.message) && !/root:/.test(err.message),
    );
    assert.deepEqual(m.list(), []);
  } finally {
    await m.close();
  }
});
