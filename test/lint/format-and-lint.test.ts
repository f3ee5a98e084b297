// The formatter and the small lint set (react-hooks rules, a few correctness checks; see biome.json) run with
// the tests: a file that is not formatted, or a hook with a wrong dependency list, fails here with Biome's
// report. `npm run format` fixes the formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');

test('biome ci: every source file is formatted and passes the lint set', () => {
  const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
  const r = spawnSync(biome, ['ci', '--colors=off', '.'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.error, undefined, `biome could not run: ${String(r.error)}`);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-6000));
});
