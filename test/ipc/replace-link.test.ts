// The window's Replace link through the job manager: a job whose link expires pauses as link-expired (not
// failed); a link to another file is refused and the job stays paused; a fresh link to the same file
// continues it to the end, over the in-process runner and the worker thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { JobManager } from '../../electron/host/job-manager';
import { InProcessRunner } from '../../electron/engine/runner/in-process-runner';
import { WorkerRunner } from '../../electron/engine/runner/worker-runner';
import type { JobRunner } from '../../electron/engine/runner/runner';
import { Job } from '../../electron/engine/job/job';
import { makeTarGz, tempDir, waitFor } from './helpers';

const MiB = 1024 * 1024;
let origin: FaultServer;
let dirs: ReturnType<typeof tempDir>;
let contents: Map<string, Buffer>;

before(async () => {
  dirs = tempDir('replace-link');
  const made = await makeTarGz(4, MiB);
  contents = made.contents;
  origin = await FaultServer.start();
  await origin.serve('/snap.tar.gz', made.archive);
  const other = Buffer.from(made.archive);
  for (let i = 0; i < other.length; i += 1000) other[i] ^= 0xff;
  await origin.serve('/other.tar.gz', other, { etag: '"other"' });
});
after(async () => {
  await origin?.close();
  dirs?.cleanup();
});

for (const [label, runner] of [
  ['in-process', (): JobRunner => new InProcessRunner((o, id) => new Job(o, id))],
  ['worker', (): JobRunner => new WorkerRunner()],
] as const) {
  test(`Replace link (${label}): paused as link-expired, another file refused, the same file continues to the end`, async () => {
    const dataDir = join(dirs.path, `data-${label}`);
    const dest = join(dirs.path, `dest-${label}`);
    // The old signature is refused from the third chunk on.
    origin.setPlan((r) =>
      r.query === '?sig=old' && r.method === 'GET' && (r.range?.start ?? 0) >= 2 * MiB
        ? { kind: 'status', status: 403, body: '<Error><Code>ExpiredRequest</Code></Error>' }
        : undefined,
    );
    const m = await JobManager.open({ dataDir, runner: runner(), engineOptions: { retryBaseMs: 20 } });
    try {
      await m.updateSettings({ chunkSize: MiB, window: 2 });
      const job = await m.add({ url: origin.url('/snap.tar.gz') + '?sig=old', dest });
      await waitFor(() => m.view(job.id).state === 'paused' && m.view(job.id).pauseReason === 'link-expired', 15_000, 'paused as link-expired');
      await assert.rejects(
        m.replaceLink(job.id, origin.url('/other.tar.gz') + '?sig=new'),
        (err: Error & { code?: string }) => err.code === 'E_UPSTREAM_CHANGED' && !err.message.includes('sig=new'),
      );
      assert.equal(m.view(job.id).pauseReason, 'link-expired', 'still paused after a refused link');
      await m.replaceLink(job.id, origin.url('/snap.tar.gz') + '?sig=new');
      await waitFor(() => m.view(job.id).state === 'done', 30_000, 'done with the new link');
      for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);
      const log = (await m.jobLog(job.id)).map((l) => l.text).join('\n');
      assert.match(log, /link replaced: .*\/snap\.tar\.gz\?… → .*\/snap\.tar\.gz\?…/);
      assert.ok(!log.includes('sig=new'), 'the log holds no query string of the new link');
    } finally {
      await m.close();
    }
  });
}
