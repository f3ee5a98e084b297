// Resumable extraction: checkpoints taken while extracting GNU-tar-made archives (.tar.gz, plain pax
// .tar, multi-member gzip, .tar.zst, .tar.lz4 with independent and linked blocks); for a sample of them, a crash is simulated at a random later point (the
// extractor destroyed, its files left as they are), and a new extractor resumed from the checkpoint,
// fed only the compressed bytes from checkpoint.compressedOffset on, must leave the same tree as
// GNU tar -x: content, modes, symlinks, hardlinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractCheckpoint } from '../../electron/engine/extract/extractor';
import { assertTreesEqual, buildTree, extractReference, makeArchive, prng, textBytes, type ArchiveKind, type ArchiveOptions } from '../helpers/archives';
import { countEntries, extractWithCheckpoints, kindOf, resume, type Kind } from './extract-resume-harness';

/** The test tree: buildTree's (long names, symlinks, modes, empty files and dirs, a hardlink) plus many small files and a hardlink to a big file. */
function makeTree(root: string): void {
  buildTree(root, { seed: 7, bytes: 5 * 1024 * 1024, maxFileBytes: 2 * 1024 * 1024, incompressible: 0.5 });
  const rand = prng(11);
  mkdirSync(join(root, 'small'));
  for (let i = 0; i < 120; i++) writeFileSync(join(root, 'small', `f-${i}-${'x'.repeat(i % 7 === 0 ? 110 : 3)}`), textBytes(rand, Math.floor(rand() * 3000)));
  linkSync(join(root, 'data/blocks/block-0000.bin'), join(root, 'zz-hardlink-to-a-big-file.bin'));
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
    const full = await extractWithCheckpoints(archive, join(base, 'full'), { seed: 1, skipShare });
    assertTreesEqual(reference, join(base, 'full'));
    const cps = full.checkpoints;
    assert.ok(cps.length >= 20, `only ${cps.length} checkpoints`);
    for (let i = 1; i < cps.length; i++) assert.ok(cps[i]!.uncompressedOffset > cps[i - 1]!.uncompressedOffset, 'checkpoints advance');
    const counts = new Map<Kind, number>();
    for (const cp of cps) counts.set(kindOf(cp), (counts.get(kindOf(cp)) ?? 0) + 1);
    for (const k of expectKinds) assert.ok(counts.has(k), `a checkpoint lands ${k} (got ${[...counts.keys()].join(', ')})`);
    if (kind === 'tar') for (const cp of cps) assert.equal(cp.compressedOffset, cp.uncompressedOffset);

    // For each kind of point, a few crashes: each after a randomly chosen checkpoint of that kind, a few
    // writes later; then a resume from that checkpoint.
    const whole = await countEntries(archive, join(base, 'count'));
    const rand = prng(9);
    let resumed = 0;
    for (const [k, n] of counts) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const dest = join(base, `resume-${k}-${attempt}`);
        const target = Math.floor(rand() * n);
        let seen = 0;
        const pick = (cp: ExtractCheckpoint) => kindOf(cp) === k && seen++ >= target;
        const crashed = await extractWithCheckpoints(archive, dest, { seed: 2 + attempt, skipShare, crash: { pick, extraWrites: Math.floor(rand() * 4) } });
        const cp = crashed.picked;
        if (!cp) continue; // this run's checkpoints fell elsewhere
        const r = await resume(archive, dest, cp, 100 + resumed);
        const label = `checkpoint ${kindOf(cp)} at tar offset ${cp.uncompressedOffset}`;
        assert.equal(r.bytesIn, archive.length - cp.compressedOffset, `${label}: resume reads only from compressedOffset`);
        assert.equal(r.entries, whole.entries, `${label}: entries`);
        assert.equal(r.bytesWritten, whole.bytesWritten, `${label}: bytes written`);
        assertTreesEqual(reference, dest);
        rmSync(dest, { recursive: true, force: true });
        resumed++;
      }
    }
    assert.ok(resumed >= 2 * counts.size, `resumed from ${resumed} checkpoints over ${counts.size} kinds`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
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

test('resume from checkpoints of a .tar.zst (one frame: points at block boundaries inside it) gives the same tree as tar -x', async () => {
  await resumeSuite('tar.zst', { format: 'gnu' }, ['member-data']);
});

test('resume from checkpoints of a .tar.lz4 (independent 64 KiB blocks) gives the same tree as tar -x through lz4 -d', async () => {
  await resumeSuite('tar.lz4', { format: 'gnu', lz4Args: ['-B4'] }, ['member-data']);
});

test('resume from checkpoints of a .tar.lz4 with linked blocks (-BD, 64 KiB) gives the same tree as tar -x through lz4 -d', async () => {
  await resumeSuite('tar.lz4-linked', { format: 'pax', lz4Args: ['-B4'] }, ['member-data']);
});
