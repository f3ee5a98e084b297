// The consumer waits (2 s at most) for a checkpoint to give back a full window's slots. A checkpoint that still
// needs its decoder unit to end cannot come while the consumer, the only one feeding the decoder, waits for it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { makeFixture, runEngine, scratch, suiteDir } from './harness';

const MiB = 1024 * 1024;
const work = suiteDir('checkpoint-wait');
let server: FaultServer | undefined;
after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

test('regression: a decoder unit longer than the window (lz4 4 MiB blocks, window 2 x 1 MiB) waited 2 s per chunk for a checkpoint that could not come', {
  timeout: 120_000,
}, async () => {
  server = await FaultServer.start();
  // lz4's defaults: independent 4 MiB blocks, each twice the window.
  const fx = await makeFixture(work, 'big-blocks', 'tar.lz4', { seed: 21, bytes: 12 * MiB, incompressible: 0.8, maxFileBytes: 4 * MiB });
  const url = await server.serve('/big-blocks.tar.lz4', { file: fx.archive });
  const dir = scratch(work, 'run');
  const out = await runEngine(url, { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { chunkSize: MiB, window: 2, concurrency: 2 }, undefined, 60_000);
  assert.equal(out.error, null, String(out.error?.message));
  assertTreesEqual(fx.reference, out.dest);
  const chunks = Math.ceil(fx.size / MiB);
  // Before: every chunk past the first window waited the whole 2 s (about 2 s x chunks); now the wait ends as
  // soon as the checkpoint is seen to need input. The bound leaves a loaded machine a wide margin.
  console.log(`# ${chunks} chunks of 1 MiB, window 2, lz4 4 MiB blocks: ${out.ms} ms`);
  assert.ok(out.ms < chunks * 500, `${out.ms} ms for ${chunks} chunks`);
});
