// The extractor reads a chunk while its range is still arriving: on a slow link it starts on the first
// flushed megabyte, not after the whole chunk. The reader sees only bytes on disk, follows a retry that
// resumes mid-chunk, and survives the part file's rename to the staged name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, renameSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followChunk } from '../../electron/engine/staging/growing-chunk';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer, chunkGet, combinePlans, faultTimes, type FaultPlan } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { eventsOf, makeFixture, runEngine, scratch, suiteDir, type Fixture } from './harness';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
let work: string;
let fx: Fixture;
let server: FaultServer;
let url: string;

before(async () => {
  work = suiteDir('growing-chunk');
  // About 9 MB of gzip: three 4 MiB chunks.
  fx = await makeFixture(work, 'snap', 'tar.gz', { seed: 21, bytes: 10 * MiB, incompressible: 0.9, maxFileBytes: 2 * MiB });
  server = await FaultServer.start({ maxResponseMs: 30_000 });
  url = await server.serve('/snap.tar.gz', { file: fx.archive });
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function plan(p: FaultPlan): void {
  server.requests.length = 0;
  server.setPlan(p);
}

/** Bytes the extractor had consumed when chunk `index` was staged. */
function consumedWhenStaged(events: EngineEvent[], index: number): number {
  let consumed = 0;
  for (const e of events) {
    if (e.type === 'progress') consumed = e.bytesConsumed;
    if (e.type === 'chunk' && e.index === index && e.state === 'staged') return consumed;
  }
  throw new Error(`chunk ${index} was never staged`);
}

test('extraction starts on the first flushed megabyte of a head chunk that is still arriving', async () => {
  // Chunk 0 arrives at about 2.5 MiB/s (256 KiB every 100 ms): 1.6 s for 4 MiB.
  plan(faultTimes(chunkGet(0), { kind: 'trickle', bytes: 256 * 1024, everyMs: 100 }));
  const dir = scratch(work, 'slow-head');
  const o = await runEngine(url, { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { chunkSize: CHUNK, idleTimeoutMs: 10_000, progressIntervalMs: 50 });
  assert.equal(o.error, null, String(o.error?.message));
  assertTreesEqual(fx.reference, join(dir, 'out'));
  const consumed = consumedWhenStaged(o.events, 0);
  assert.ok(consumed >= 2 * MiB, `the extractor had consumed ${consumed} bytes when chunk 0 was complete`);
});

test('the head chunk the extractor keeps up with is handed over in memory, not written to its part file and read back', async () => {
  plan(faultTimes(chunkGet(0), { kind: 'trickle', bytes: 256 * 1024, everyMs: 100 }));
  const dir = scratch(work, 'head-in-memory');
  const stateDir = join(dir, 'state');
  // The largest chunk-0 file seen in the state folder while the job runs.
  let largest = 0;
  const sizes = setInterval(() => {
    for (const name of (() => {
      try {
        return readdirSync(stateDir);
      } catch {
        return [];
      }
    })()) {
      if (!name.startsWith('chunk-00000000.')) continue;
      try {
        largest = Math.max(largest, statSync(join(stateDir, name)).size);
      } catch {
        // Gone meanwhile (the chunk was released).
      }
    }
  }, 10);
  try {
    const o = await runEngine(url, { dest: join(dir, 'out'), stateDir }, { chunkSize: CHUNK, idleTimeoutMs: 10_000, progressIntervalMs: 50 });
    assert.equal(o.error, null, String(o.error?.message));
    assertTreesEqual(fx.reference, join(dir, 'out'));
    assert.ok(consumedWhenStaged(o.events, 0) >= 2 * MiB, 'read while it arrived');
  } finally {
    clearInterval(sizes);
  }
  // Each byte went to the extractor from memory: the part file held at most what arrived before the hand-over.
  assert.ok(largest <= MiB, `chunk 0 reached ${largest} bytes on disk`);
});

test('a head chunk cut mid-body and resumed is read on from where its bytes stopped, once', async () => {
  plan(combinePlans(faultTimes(chunkGet(0), { kind: 'cut', afterBytes: 1_500_000 }), faultTimes(chunkGet(1_500_000), { kind: 'trickle', bytes: 256 * 1024, everyMs: 60 })));
  const dir = scratch(work, 'cut-head');
  const o = await runEngine(url, { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { chunkSize: CHUNK, idleTimeoutMs: 10_000, progressIntervalMs: 50 });
  assert.equal(o.error, null, String(o.error?.message));
  assert.equal(eventsOf(o.events, 'attempt-failed').filter((e) => e.index === 0).length, 1);
  // Byte-identical tree: nothing read twice or skipped across the cut.
  assertTreesEqual(fx.reference, join(dir, 'out'));
  assert.ok(consumedWhenStaged(o.events, 0) > 0, 'read while the retry arrived');
});

test('followChunk reads only committed bytes, waits for more, and keeps reading across the rename', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'follow-'));
  try {
    const part = join(dir, 'c.part');
    const staged = join(dir, 'c.bin');
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(part, data.subarray(0, 100_000));
    let onDisk = 100_000;
    let waits = 0;
    const chunk = {
      paths: [part, staged] as const,
      onDisk: () => onDisk,
      changed: async () => {
        waits++;
        // The writer lands the next 100 KB (a flush), and after the last one the part is renamed.
        if (onDisk < data.length) {
          appendFileSync(part, data.subarray(onDisk, onDisk + 100_000));
          onDisk += 100_000;
          if (onDisk === data.length) renameSync(part, staged);
        }
      },
    };
    const pieces: Buffer[] = [];
    let pos = 10;
    for await (const piece of followChunk(chunk, 10, data.length, 64 * 1024)) {
      pos += piece.length;
      assert.ok(pos <= onDisk, `read up to ${pos} with ${onDisk} on disk`);
      pieces.push(piece);
    }
    assert.deepEqual(Buffer.concat(pieces), data.subarray(10));
    assert.equal(waits, 2);
    assert.deepEqual(readFileSync(staged), data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
