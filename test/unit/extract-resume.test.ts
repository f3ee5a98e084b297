// Resumable extraction: checkpoints taken while extracting GNU-tar-made archives (.tar.gz, plain pax
// .tar, multi-member gzip); for a sample of them, a crash is simulated at a random later point (the
// extractor destroyed, its files left as they are), and a new extractor resumed from the checkpoint,
// fed only the compressed bytes from checkpoint.compressedOffset on, must leave the same tree as
// GNU tar -x: content, modes, symlinks, hardlinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Extractor, type ExtractCheckpoint } from '../../electron/engine/extractor';
import { assertTreesEqual, buildTree, extractReference, makeArchive, prng, textBytes, type ArchiveKind, type ArchiveOptions } from '../helpers/archives';

/** Where in the tar structure a checkpoint landed. */
type Kind = 'member-data' | 'member-padding' | 'sequence-start' | 'in-header' | 'in-long-record' | 'in-small-file' | 'end';

function kindOf(cp: ExtractCheckpoint): Kind {
  const t = cp.tar;
  if (t.member) return t.member.dataRemaining > 0 ? 'member-data' : 'member-padding';
  if (t.framer.state === 'end') return 'end';
  const replay = Buffer.from(t.replay ?? '', 'base64');
  if (replay.length === 0) return 'sequence-start';
  if (replay.length < 512) return 'in-header';
  const type = String.fromCharCode(replay[156]!);
  if ('LKxg'.includes(type)) return 'in-long-record';
  return replay.length > 512 ? 'in-small-file' : 'in-header';
}

/** The test tree: buildTree's (long names, symlinks, modes, empty files and dirs, a hardlink) plus many small files and a hardlink to a big file. */
function makeTree(root: string): void {
  buildTree(root, { seed: 7, bytes: 5 * 1024 * 1024, maxFileBytes: 2 * 1024 * 1024, incompressible: 0.5 });
  const rand = prng(11);
  mkdirSync(join(root, 'small'));
  for (let i = 0; i < 120; i++) writeFileSync(join(root, 'small', `f-${i}-${'x'.repeat(i % 7 === 0 ? 110 : 3)}`), textBytes(rand, Math.floor(rand() * 3000)));
  linkSync(join(root, 'data/blocks/block-0000.bin'), join(root, 'zz-hardlink-to-a-big-file.bin'));
}

/** Writes `input` in pieces of the given sizes, waiting for each; calls `between` after each one. */
async function feed(ex: Extractor, input: Buffer, sizes: () => number, between: (fed: number) => boolean | void): Promise<void> {
  for (let at = 0; at < input.length; ) {
    const n = Math.min(input.length - at, sizes());
    await new Promise<void>((resolve, reject) => ex.write(input.subarray(at, at + n), (err) => (err ? reject(err) : resolve())));
    at += n;
    if (between(at) === false) return;
  }
}

interface Run {
  checkpoints: ExtractCheckpoint[];
  msPerCheckpoint: number;
}

/**
 * Extracts `archive` into `dest`, asking for a checkpoint after every write. With `crashAfter`, stops
 * (destroys the extractor) a few writes after that many checkpoints resolved.
 */
async function extractWithCheckpoints(
  archive: Buffer,
  dest: string,
  seed: number,
  skipShare: number,
  crashAfter?: { checkpoints: number; extraWrites: number },
): Promise<Run> {
  const rand = prng(seed);
  const sizes = () => 1 + Math.floor(rand() * 24_000);
  const ex = new Extractor({ dest, format: 'auto' });
  const checkpoints: ExtractCheckpoint[] = [];
  let asked = 0;
  let waitMs = 0;
  let crashCountdown = -1;
  let outstanding: Promise<unknown> | null = null;
  const ask = () => {
    // Calls while one is pending share it: ask again only once it has resolved. Plain tar can stop
    // anywhere, so it is asked after about one write in four only (checkpoints cost fsyncs).
    if (outstanding || (asked > 0 && rand() < skipShare)) return;
    const t0 = performance.now();
    asked++;
    outstanding = ex.checkpoint().then((cp) => {
      outstanding = null;
      if (cp) checkpoints.push(JSON.parse(JSON.stringify(cp)) as ExtractCheckpoint);
      waitMs += performance.now() - t0;
    }, () => undefined);
  };
  ask();
  await feed(ex, archive, sizes, () => {
    if (crashAfter) {
      if (crashCountdown < 0 && checkpoints.length >= crashAfter.checkpoints) crashCountdown = crashAfter.extraWrites;
      if (crashCountdown >= 0 && crashCountdown-- === 0) return false;
    }
    ask();
  });
  if (crashAfter) {
    // The input ran out before the crash point: let the last checkpoint land first.
    if (checkpoints.length < crashAfter.checkpoints) await outstanding;
    ex.destroy();
    await ex.done().then(
      () => assert.fail('a destroyed extractor must not succeed'),
      (err: { code?: string }) => assert.equal(err.code, 'E_ABORTED'),
    );
    return { checkpoints, msPerCheckpoint: 0 };
  }
  ex.end();
  await ex.done();
  assert.ok(asked > 0);
  return { checkpoints, msPerCheckpoint: waitMs / Math.max(1, checkpoints.length) };
}

/** Resumes from `cp` into `dest`, feeding only the bytes from cp.compressedOffset on, in random pieces. */
async function resume(archive: Buffer, dest: string, cp: ExtractCheckpoint, seed: number): Promise<{ bytesIn: number; entries: number; bytesWritten: number }> {
  const rand = prng(seed);
  const ex = new Extractor({ dest, format: 'auto', resumeFrom: JSON.parse(JSON.stringify(cp)) as ExtractCheckpoint });
  const rest = archive.subarray(cp.compressedOffset);
  await feed(ex, rest, () => 1 + Math.floor(rand() * 40_000), () => undefined);
  ex.end();
  const result = await ex.done();
  return { bytesIn: ex.bytesIn, entries: result.entries, bytesWritten: result.bytesWritten };
}

/** Up to `perKind` checkpoints of each kind, chosen at random (seeded), in archive order. */
function sample(cps: ExtractCheckpoint[], perKind: number, seed: number): number[] {
  const rand = prng(seed);
  const byKind = new Map<Kind, number[]>();
  cps.forEach((cp, i) => {
    const k = kindOf(cp);
    byKind.set(k, [...(byKind.get(k) ?? []), i]);
  });
  const chosen: number[] = [];
  for (const list of byKind.values()) {
    const pool = [...list];
    for (let n = 0; n < perKind && pool.length > 0; n++) chosen.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
  }
  return chosen.sort((a, b) => a - b);
}

async function resumeSuite(kind: ArchiveKind, options: ArchiveOptions, expectKinds: Kind[]): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'sm-resume-'));
  try {
    const tree = join(base, 'tree');
    makeTree(tree);
    const archivePath = await makeArchive(tree, join(base, `a.${kind}`), kind, options);
    const archive = readFileSync(archivePath);
    const reference = join(base, 'reference');
    await extractReference(archivePath, reference);

    const skipShare = kind === 'tar' ? 0.75 : 0;
    const full = await extractWithCheckpoints(archive, join(base, 'full'), 1, skipShare);
    assertTreesEqual(reference, join(base, 'full'));
    const cps = full.checkpoints;
    assert.ok(cps.length >= 20, `only ${cps.length} checkpoints`);
    for (let i = 1; i < cps.length; i++) {
      assert.ok(cps[i]!.uncompressedOffset > cps[i - 1]!.uncompressedOffset, `checkpoints advance: ${JSON.stringify(cps.slice(i - 1, i + 1).map((c) => [c.compressedOffset, c.uncompressedOffset, kindOf(c), c.gzip?.bitOffset]))}`);
    }
    const kinds = new Set(cps.map(kindOf));
    for (const k of expectKinds) assert.ok(kinds.has(k), `a checkpoint lands ${k} (got ${[...kinds].join(', ')})`);
    if (kind === 'tar') for (const cp of cps) assert.equal(cp.compressedOffset, cp.uncompressedOffset);

    const fullEntries = await countEntries(archive, join(base, 'count'));
    const chosen = sample(cps, 3, 5);
    const rand = prng(9);
    for (const i of chosen) {
      const dest = join(base, `resume-${i}`);
      // The same write pattern reproduces the same checkpoints; crash a few writes after checkpoint i.
      const crashed = await extractWithCheckpoints(archive, dest, 1, skipShare, { checkpoints: i + 1, extraWrites: Math.floor(rand() * 4) });
      const cp = crashed.checkpoints[i]!;
      assert.deepEqual(cp, cps[i], `checkpoint ${i} is reproducible`);
      const r = await resume(archive, dest, cp, 100 + i);
      const label = `checkpoint ${i} (${kindOf(cp)}, tar offset ${cp.uncompressedOffset})`;
      assert.equal(r.bytesIn, archive.length - cp.compressedOffset, `${label}: resume reads only from compressedOffset`);
      assert.equal(r.entries, fullEntries.entries, `${label}: entries`);
      assert.equal(r.bytesWritten, fullEntries.bytesWritten, `${label}: bytes written`);
      assertTreesEqual(reference, dest);
      rmSync(dest, { recursive: true, force: true });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function countEntries(archive: Buffer, dest: string): Promise<{ entries: number; bytesWritten: number }> {
  const ex = new Extractor({ dest, format: 'auto' });
  ex.end(archive);
  const r = await ex.done();
  rmSync(dest, { recursive: true, force: true });
  return { entries: r.entries, bytesWritten: r.bytesWritten };
}

test('resume from checkpoints of a GNU tar .tar.gz (GNU long-name records) gives the same tree as tar -xzf', async () => {
  await resumeSuite('tar.gz', { format: 'gnu' }, ['member-data', 'in-long-record']);
});

test('resume from checkpoints of a plain pax .tar, inside data, headers and pax records, gives the same tree as tar -xf', async () => {
  await resumeSuite('tar', { format: 'pax' }, ['member-data', 'in-header', 'in-long-record', 'in-small-file']);
});

test('resume from checkpoints of a multi-member gzip gives the same tree as tar -xzf', async () => {
  await resumeSuite('tar.gz-multi', { format: 'gnu', members: 3 }, ['member-data']);
});
