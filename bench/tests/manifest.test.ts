// The check every benchmark result passes through must catch a wrong tree: content, mode, link, missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, cpSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest, diffManifests } from '../manifest';
import { toRates } from '../svg-plot';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'manifest-test-'));
  mkdirSync(join(root, 'a/b'), { recursive: true });
  writeFileSync(join(root, 'a/b/data.bin'), Buffer.alloc(3 << 20, 7));
  writeFileSync(join(root, 'a/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('b/data.bin', join(root, 'a/link'));
  return root;
}

test('an identical copy has no differences; each kind of change is reported', async () => {
  const src = tree();
  const copy = mkdtempSync(join(tmpdir(), 'manifest-copy-'));
  try {
    cpSync(src, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const expected = await buildManifest(src);
    assert.deepEqual(diffManifests(expected, await buildManifest(copy)).errors, []);

    const big = Buffer.alloc(3 << 20, 7);
    big[2_000_000] = 8;
    writeFileSync(join(copy, 'a/b/data.bin'), big);
    chmodSync(join(copy, 'a/run.sh'), 0o644);
    unlinkSync(join(copy, 'a/link'));
    symlinkSync('elsewhere', join(copy, 'a/link'));
    writeFileSync(join(copy, 'extra'), '');
    const errors = diffManifests(expected, await buildManifest(copy)).errors.join('\n');
    assert.match(errors, /a\/b\/data.bin: content differs/);
    assert.match(errors, /a\/run.sh: mode 644, expected 755/);
    assert.match(errors, /a\/link: link to elsewhere/);
    assert.match(errors, /unexpected extra/);
    rmSync(join(copy, 'a/b'), { recursive: true });
    assert.match(diffManifests(expected, await buildManifest(copy)).errors.join('\n'), /missing a\/b/);
  } finally {
    rmSync(src, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
});

test('cumulative byte samples become rates over a sliding second', () => {
  const points: Array<[number, number]> = [];
  for (let t = 0; t <= 3000; t += 100) points.push([t, t < 1000 ? 0 : ((t - 1000) * 2 * 1024 * 1024) / 1000]);
  const rates = toRates(points);
  const at = (s: number) => rates.find((r) => Math.abs(r[0] - s) < 1e-9)![1];
  assert.equal(at(0.5), 0);
  assert.ok(Math.abs(at(2.5) - 2) < 1e-9);
});
