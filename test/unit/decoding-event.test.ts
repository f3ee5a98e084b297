// A job says which format it found and where a stop would send it back (the `decoding` event, which the
// window and the job log show): by what the decoder does, unless the job rules checkpoints out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DecodingEvent, EngineEvent } from '../../electron/engine/events';
import { JobModel, emptyProgress, type ModelChanges } from '../../electron/host/job-model';
import { logEntryFor } from '../../electron/host/job-log';
import { jobViewSchema } from '../../shared/schemas';
import { buildTree, makeArchive } from '../helpers/archives';
import { FaultServer } from '../../harness/fault-server';
import { runEngine } from '../integration/harness';

let base: string;
let origin: FaultServer;
let tar: Buffer;

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'sm-decoding-'));
  buildTree(join(base, 'tree'), { seed: 44, bytes: 600 * 1024, maxFileBytes: 200 * 1024 });
  tar = readFileSync(await makeArchive(join(base, 'tree'), join(base, 'a.tar'), 'tar'));
  origin = await FaultServer.start();
});

after(async () => {
  await origin.close();
  rmSync(base, { recursive: true, force: true });
});

const tool = (cmd: string, args: string[]) => execFileSync(cmd, [...args, '-c'], { input: tar, maxBuffer: 1 << 30 });

let n = 0;
async function decodingOf(
  body: Buffer,
  options: Record<string, unknown> = {},
  resource: { acceptRanges?: boolean } = {},
  download = false,
): Promise<Omit<DecodingEvent, 'jobId' | 'at'>[]> {
  const id = n++;
  const url = await origin.serve(`/a-${id}`, body, resource);
  const where = download ? { output: join(base, `out-${id}.bin`), stateDir: join(base, `state-${id}`) } : { dest: join(base, `dest-${id}`), stateDir: join(base, `state-${id}`) };
  const o = await runEngine(url, where, options);
  assert.equal(o.error, null, o.error?.message);
  return o.events.filter((e): e is DecodingEvent => e.type === 'decoding').map(({ type, format, resume, reason }) => ({ type, format, resume, reason }));
}

test('the decoding event names the format and its resume granularity: tar any byte, gzip/lz4/zstd at any block', async () => {
  assert.deepEqual(await decodingOf(tar), [{ type: 'decoding', format: 'tar', resume: 'any-byte', reason: null }]);
  assert.deepEqual(await decodingOf(gzipSync(tar)), [{ type: 'decoding', format: 'gzip', resume: 'block', reason: null }]);
  assert.deepEqual(await decodingOf(tool('lz4', ['-q'])), [{ type: 'decoding', format: 'lz4', resume: 'block', reason: null }]);
  assert.deepEqual(await decodingOf(tool('lz4', ['-q', '-BD'])), [{ type: 'decoding', format: 'lz4', resume: 'block', reason: null }]);
  assert.deepEqual(await decodingOf(tool('zstd', ['-q', '-3'])), [{ type: 'decoding', format: 'zstd', resume: 'block', reason: null }]);
  assert.deepEqual(await decodingOf(tool('pzstd', ['-q', '-p', '2'])), [{ type: 'decoding', format: 'zstd', resume: 'block', reason: null }]);
});

test('checkpoints off, a window of one slot or an origin without ranges: it restarts from the beginning, and says why', async () => {
  const zst = tool('zstd', ['-q', '-3']);
  const [off] = await decodingOf(zst, { checkpoints: false });
  assert.deepEqual([off!.format, off!.resume], ['zstd', 'none']);
  assert.match(off!.reason!, /checkpoints are turned off/);
  const [one] = await decodingOf(tool('lz4', ['-q']), { window: 1, concurrency: 1 });
  assert.deepEqual([one!.format, one!.resume], ['lz4', 'none']);
  assert.match(one!.reason!, /window of one slot/);
  const [stream] = await decodingOf(zst, {}, { acceptRanges: false });
  assert.deepEqual([stream!.format, stream!.resume], ['zstd', 'none']);
  assert.match(stream!.reason!, /range requests/);
});

test('a download-only job keeps its chunks: raw, resumable at any chunk', async () => {
  assert.deepEqual(await decodingOf(tool('zstd', ['-q']), {}, {}, true), [{ type: 'decoding', format: 'raw', resume: 'chunk', reason: null }]);
});

test('the host folds the decoding event into the job view the contract validates, and logs it in words', () => {
  const quiet: ModelChanges = { chunk() {}, progress() {}, window() {}, attempt() {}, state() {}, error() {} };
  const model = new JobModel(
    {
      id: 'j1',
      url: 'https://example.org/s.tar.zst',
      dest: '/data',
      output: null,
      state: 'downloading',
      pauseReason: null,
      error: null,
      createdAt: 1,
      updatedAt: 1,
      probe: null,
      progress: emptyProgress(),
      summary: null,
      options: { chunkSize: null, window: null, concurrency: null, limitRate: null, retries: null, format: 'auto', sha256: null, strict: false, force: false },
      warnings: 0,
      chunkMap: '',
    },
    quiet,
  );
  const e: EngineEvent = { type: 'decoding', jobId: 'j1', at: 5, format: 'zstd', resume: 'block', reason: null };
  model.apply(e);
  const view = jobViewSchema.parse(model.snapshot());
  assert.deepEqual(view.decoding, { format: 'zstd', resume: 'block', reason: null });
  assert.equal(logEntryFor(e)?.text, 'format tar.zst, resumable at any block');
  const none: EngineEvent = { type: 'decoding', jobId: 'j1', at: 6, format: 'lz4', resume: 'none', reason: 'checkpoints are turned off for this job' };
  assert.equal(logEntryFor(none)?.text, 'format tar.lz4, restarts from the beginning (checkpoints are turned off for this job)');
  // Job lists saved before the field existed still read.
  const { decoding: _d, ...older } = model.snapshot();
  assert.equal(jobViewSchema.safeParse(older).success, true);
});
