// Mirrors that go wrong mid-job. A range a mirror began is continued elsewhere only if that source is proved
// the same object (equal strong ETags): otherwise the chunk is fetched again from its start. A mirror whose
// file changes mid-job is dropped and the job completes; a change of the URL's own file is still the job's
// error (E_UPSTREAM_CHANGED, exit 4). A stopped job's next run uses the mirrors saved with its state. A URL
// without range support is read as one stream from it, the mirrors unused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer, type FaultPlan } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { eventsOf, makeFixture, runEngine, scratch, suiteDir, type Fixture } from './harness';

const PATH = '/snap.tar.gz';
const CHUNK = 128 * 1024;
const OPTIONS = { chunkSize: CHUNK, window: 6, concurrency: 4, retries: 6 };
const TRICKLE = { kind: 'trickle', bytes: 8 * 1024, everyMs: 5 } as const;

let work: string;
let fx: Fixture;

before(async () => {
  work = suiteDir('mirror-faults');
  fx = await makeFixture(work, 'snap', 'tar.gz', { seed: 62, bytes: 2_000_000, incompressible: 0.8, maxFileBytes: 300_000 });
});
after(() => rmSync(work, { recursive: true, force: true }));

const paced: FaultPlan = (r) => (r.method === 'GET' ? TRICKLE : undefined);
/** Every range the mirror serves breaks after 40 KB: each leaves a prefix for another source to continue or not. */
const cutting: FaultPlan = (r) => (r.method === 'GET' ? { kind: 'cut', afterBytes: 40_000 } : undefined);

/** Ranged GETs of the primary that start inside a chunk, i.e. continue a prefix. */
function midChunkStarts(s: FaultServer): number {
  return s.requests.filter((r) => r.method === 'GET' && r.range && r.range.start % CHUNK !== 0).length;
}

async function runWithCuttingMirror(mirrorEtag: string | null | undefined): Promise<{ primary: FaultServer; mirror: FaultServer; dest: string }> {
  const primary = await FaultServer.start({ plan: paced });
  const mirror = await FaultServer.start({ plan: cutting });
  await primary.serve(PATH, { file: fx.archive });
  await mirror.serve(PATH, { file: fx.archive }, mirrorEtag === undefined ? {} : { etag: mirrorEtag });
  const dir = scratch(work, 'cut');
  const o = await runEngine(primary.url(PATH), { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { ...OPTIONS, mirrors: [mirror.url(PATH)] }, undefined, 60_000);
  assert.equal(o.error, null, o.error?.message);
  assertTreesEqual(fx.reference, o.dest);
  return { primary, mirror, dest: o.dest };
}

test('a mirror without a strong ETag that breaks mid-range: the chunk is fetched again from its start elsewhere, never continued', async () => {
  const { primary, mirror } = await runWithCuttingMirror(null);
  try {
    assert.ok(
      mirror.requests.some((r) => r.method === 'GET' && r.bytesSent > 0),
      'the mirror began ranges',
    );
    assert.equal(midChunkStarts(primary), 0, 'no range of the primary continued a prefix the mirror began');
  } finally {
    await primary.close();
    await mirror.close();
  }
});

test('a mirror proved the same object (equal strong ETag) that breaks mid-range: the primary continues its prefix', async () => {
  const { primary, mirror } = await runWithCuttingMirror(undefined);
  try {
    assert.ok(midChunkStarts(primary) > 0, 'the primary continued a prefix the mirror began');
  } finally {
    await primary.close();
    await mirror.close();
  }
});

test('a mirror whose file changes mid-job is dropped and the job completes; the URL’s own change is the job’s error', async () => {
  const a = await FaultServer.start({ plan: paced });
  const b = await FaultServer.start();
  await a.serve(PATH, { file: fx.archive });
  await b.serve(PATH, { file: fx.archive });
  const changedAfter = (s: FaultServer, n: number): FaultPlan => {
    const other = readFileSync(fx.archive);
    for (let i = 0; i < other.length; i += 1000) other[i]! ^= 0xff;
    return (r) => {
      if (r.method !== 'GET') return TRICKLE;
      return s.requests.filter((q) => q.method === 'GET').length > n ? { kind: 'changed', etag: '"v2"', body: other } : TRICKLE;
    };
  };
  try {
    b.setPlan(changedAfter(b, 2));
    const dir = scratch(work, 'changed');
    const o = await runEngine(a.url(PATH), { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { ...OPTIONS, mirrors: [b.url(PATH)] }, undefined, 60_000);
    assert.equal(o.error, null, o.error?.message);
    assertTreesEqual(fx.reference, o.dest);
    const dropped = eventsOf(o.events, 'warning').find((w) => w.code === 'MIRROR_DROPPED');
    assert.ok(dropped && /changed/.test(dropped.message), dropped?.message);
    assert.equal(o.summary?.sources?.[1]?.state, 'dropped');

    // The URL's own file changes: the job stops as it would without mirrors.
    b.setPlan(paced);
    a.setPlan(changedAfter(a, 3));
    const dir2 = scratch(work, 'primary-changed');
    const p = await runEngine(a.url(PATH), { dest: join(dir2, 'out'), stateDir: join(dir2, 'state') }, { ...OPTIONS, mirrors: [b.url(PATH)] }, undefined, 60_000);
    assert.equal(p.error?.code, 'E_UPSTREAM_CHANGED', p.error?.message);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a stopped job’s next run, given no --mirror, uses the mirrors saved with its state', async () => {
  const a = await FaultServer.start({ plan: paced });
  const b = await FaultServer.start({ plan: paced });
  await a.serve(PATH, { file: fx.archive });
  await b.serve(PATH, { file: fx.archive });
  try {
    const dir = scratch(work, 'reuse');
    const where = { dest: join(dir, 'out'), stateDir: join(dir, 'state') };
    let stopped = false;
    const first = await runEngine(a.url(PATH), where, { ...OPTIONS, mirrors: [b.url(PATH)] }, (e, job) => {
      if (!stopped && e.type === 'progress' && e.bytesCommitted >= 0.3 * fx.size) {
        stopped = true;
        job.cancel();
      }
    });
    assert.equal(first.error?.code, 'E_ABORTED');
    const before = b.requests.length;
    const second = await runEngine(a.url(PATH), where, { ...OPTIONS }, undefined, 60_000);
    assert.equal(second.error, null, second.error?.message);
    assertTreesEqual(fx.reference, second.dest);
    assert.ok(
      eventsOf(second.events, 'warning').some((w) => w.code === 'MIRRORS_REUSED'),
      'the run says it uses the saved mirrors',
    );
    assert.ok(
      b.requests.slice(before).some((r) => r.method === 'GET'),
      'the saved mirror served the second run',
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('a URL that cannot serve ranges comes as one stream from it: the mirrors are said to be unused and not asked anything', async () => {
  const a = await FaultServer.start();
  const b = await FaultServer.start();
  await a.serve(PATH, { file: fx.archive }, { acceptRanges: false });
  await b.serve(PATH, { file: fx.archive });
  try {
    const dir = scratch(work, 'one-stream');
    const o = await runEngine(a.url(PATH), { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { ...OPTIONS, mirrors: [b.url(PATH)] }, undefined, 60_000);
    assert.equal(o.error, null, o.error?.message);
    assertTreesEqual(fx.reference, o.dest);
    assert.ok(eventsOf(o.events, 'warning').some((w) => w.code === 'MIRRORS_UNUSED'));
    assert.equal(b.requests.length, 0, 'the mirror was not probed');
    assert.equal(o.summary?.sources, undefined, 'no sources in the summary of a one-stream job');
  } finally {
    await a.close();
    await b.close();
  }
});
