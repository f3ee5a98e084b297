// --zstd-max-window: a `zstd --long` frame whose window is over the limit is refused before anything is
// extracted (exit 2, the memory it needs and the flag that allows it); with the limit raised it extracts
// the same tree as tar -x, with checkpoints on and off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertTreesEqual, buildTree, extractReference, makeArchive } from '../helpers/archives';
import { FaultServer } from '../../harness/fault-server';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');

let base: string;
let reference: string;
let origin: FaultServer;
let long27: string;
let long28: string;

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'sm-zstd-window-'));
  buildTree(join(base, 'tree'), { seed: 33, bytes: 1024 * 1024, maxFileBytes: 300 * 1024, incompressible: 0.3 });
  const tarPath = await makeArchive(join(base, 'tree'), join(base, 'a.tar'), 'tar');
  reference = join(base, 'ref');
  await extractReference(tarPath, reference);
  const tar = readFileSync(tarPath);
  // From stdin zstd cannot shrink the window to the input's size: the frame asks for all of 2^27 (2^28).
  const zstd = (long: number) => execFileSync('zstd', ['-q', '-3', `--long=${long}`, '-c'], { input: tar, maxBuffer: 1 << 30 });
  origin = await FaultServer.start();
  long27 = await origin.serve('/l27.tar.zst', zstd(27));
  long28 = await origin.serve('/l28.tar.zst', zstd(28));
});

after(async () => {
  await origin.close();
  rmSync(base, { recursive: true, force: true });
});

let runs = 0;
function get(url: string, extra: string[]): Promise<{ code: number | null; stderr: string; dest: string }> {
  const dir = join(base, `run-${runs++}`);
  const dest = join(dir, 'dest');
  const args = [cli, 'get', url, '--dest', dest, '--state-dir', join(dir, 'state'), '--chunk-size', '256K', ...extra];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('exit', (code) => resolve({ code, stderr, dest }));
  });
}

function assertNothingExtracted(dest: string): void {
  assert.ok(!existsSync(dest) || readdirSync(dest).length === 0, `nothing extracted into ${dest}: ${existsSync(dest) ? readdirSync(dest).join(', ') : ''}`);
}

for (const mode of [[], ['--no-checkpoints']]) {
  const label = mode.length ? 'checkpoints off' : 'checkpoints on';

  test(`a zstd --long=27 frame over --zstd-max-window 64M is refused up front, exit 2, naming its memory and the flag (${label})`, async () => {
    const r = await get(long27, ['--zstd-max-window', '64M', ...mode]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /E_WINDOW_TOO_LARGE: The zstd frame at byte 0 needs a 128\.0 MiB window, about 160\.0 MiB of memory to unpack; the limit is 64\.0 MiB\. Allow it with --zstd-max-window 128M/,
    );
    assertNothingExtracted(r.dest);
  });

  test(`a limit between two powers of two is held exactly, not rounded up to one (${label})`, async () => {
    const r = await get(long27, ['--zstd-max-window', '100M', ...mode]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /needs a 128\.0 MiB window.*the limit is 100\.0 MiB/);
    assertNothingExtracted(r.dest);
  });

  test(`the same --long=27 archive extracts with --zstd-max-window 128M (${label})`, async () => {
    const r = await get(long27, ['--zstd-max-window', '128M', ...mode]);
    assert.equal(r.code, 0, r.stderr);
    // The CLI says the format it found and where a stop would send the job back.
    assert.match(
      r.stderr,
      mode.length ? /^format tar\.zst, restarts from the beginning \(checkpoints are turned off for this job\)$/m : /^format tar\.zst, resumable at any block$/m,
    );
    assertTreesEqual(reference, r.dest);
  });

  test(`a --long=28 frame is refused by default (as zstd -d does) and extracts with --zstd-max-window 256M (${label})`, async () => {
    const refused = await get(long28, [...mode]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /needs a 256\.0 MiB window.*the limit is 128\.0 MiB\. Allow it with --zstd-max-window 256M \(zstd -d needs --memory=256MB/);
    assertNothingExtracted(refused.dest);
    const allowed = await get(long28, ['--zstd-max-window', '256M', ...mode]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assertTreesEqual(reference, allowed.dest);
  });
}
