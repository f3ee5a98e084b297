// Resume inside sparse members: checkpoints taken while a sparse member's data is being written (old GNU
// with extension headers, pax 0.0, 0.1 and 1.0) carry its map position; a crash a few writes later and a
// resume from the checkpoint must leave the same file as GNU tar -x, holes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractCheckpoint } from '../../electron/engine/extract/extractor';
import { assertTreesEqual, prng } from '../helpers/archives';
import { extractWithCheckpoints, resume } from './extract-resume-harness';

function sparseFile(path: string, size: number, regions: Array<[number, number]>, seed: number): void {
  const rand = prng(seed);
  const fd = openSync(path, 'w');
  try {
    for (const [offset, length] of regions) {
      const data = Buffer.alloc(length);
      for (let i = 0; i < length; i++) data[i] = Math.floor(rand() * 256) | 1;
      writeSync(fd, data, 0, length, offset);
    }
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

function makeTree(root: string): void {
  mkdirSync(root);
  writeFileSync(join(root, 'a-plain.txt'), 'before the sparse files\n');
  // 30 regions: old GNU needs six extension blocks for the map.
  sparseFile(
    join(root, 'many'),
    8 << 20,
    Array.from({ length: 30 }, (_, i) => [i * 256 * 1024, 48 * 1024] as [number, number]),
    1,
  );
  sparseFile(
    join(root, 'trailing-hole'),
    4 << 20,
    [
      [0, 100 * 1024],
      [1 << 20, 60 * 1024],
    ],
    2,
  );
  writeFileSync(join(root, 'z-plain.txt'), 'after the sparse files\n');
}

const VARIANTS: Array<[string, string[]]> = [
  ['old GNU (extension headers)', ['--format=gnu', '--sparse']],
  ['pax 0.0', ['--posix', '--sparse', '--sparse-version=0.0']],
  ['pax 0.1', ['--posix', '--sparse', '--sparse-version=0.1']],
  ['pax 1.0', ['--posix', '--sparse', '--sparse-version=1.0']],
];

test('resume inside a sparse member (old GNU, pax 0.0, 0.1, 1.0) keeps the map position: same file and holes as GNU tar', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sm-resume-sparse-'));
  try {
    const tree = join(base, 'tree');
    makeTree(tree);
    for (const [label, flags] of VARIANTS) {
      const archivePath = join(base, 'a.tar');
      execFileSync('tar', [...flags, '-cf', archivePath, '-C', tree, 'a-plain.txt', 'many', 'trailing-hole', 'z-plain.txt']);
      const archive = readFileSync(archivePath);
      const reference = join(base, 'reference');
      mkdirSync(reference);
      execFileSync('tar', ['-xf', archivePath, '-C', reference, '--no-same-owner']);
      let resumed = 0;
      for (let attempt = 0; attempt < 4; attempt++) {
        const dest = join(base, `resume-${attempt}`);
        let seen = 0;
        // Checkpoints inside the data of a sparse member, past its map, a different one each attempt.
        const pick = (cp: ExtractCheckpoint) => !!cp.tar.member?.entry.sparse && cp.tar.member.dataRemaining > 0 && seen++ >= attempt * 3;
        const crashed = await extractWithCheckpoints(archive, dest, { seed: 40 + attempt, maxWrite: 30_000, crash: { pick, extraWrites: 1 + attempt } });
        const cp = crashed.picked;
        if (!cp) continue;
        const m = cp.tar.member!;
        assert.ok(m.entry.sparse!.regions.length > 0, `${label}: the checkpoint carries the map`);
        await resume(archive, dest, cp, 7 + attempt);
        assertTreesEqual(reference, dest);
        for (const name of ['many', 'trailing-hole']) {
          const ours = lstatSync(join(dest, name));
          const gnu = lstatSync(join(reference, name));
          assert.ok(ours.blocks <= gnu.blocks * 1.5 + 64, `${label}: ${name} keeps its holes after a resume (${ours.blocks} blocks vs GNU tar's ${gnu.blocks})`);
        }
        rmSync(dest, { recursive: true, force: true });
        resumed++;
      }
      assert.ok(resumed >= 2, `${label}: resumed from ${resumed} checkpoints inside sparse data`);
      rmSync(reference, { recursive: true, force: true });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
