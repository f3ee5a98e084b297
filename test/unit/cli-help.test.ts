// The CLI helps a new user: `get --help` and `status --help` print help (they were usage errors), a
// mistyped option gets a "did you mean", and `status` says whether a process runs the job right now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { closestOption, editDistance } from '../../electron/cli/suggest';
import { FaultServer } from '../../harness/fault-server';
import { makeTarGz, tempDir, waitFor } from '../ipc/helpers';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');
const MiB = 1024 * 1024;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('get --help and status --help print their help and exit 0 (were exit 2)', () => {
  const get = run(['get', '--help']);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /Options for get:/);
  assert.match(get.stdout, /--limit-rate/);
  assert.match(get.stdout, /--zstd-max-window <size> .*default 128M/);
  const status = run(['status', '--help']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^Usage: snapshot-manager status/);
  assert.match(status.stdout, /whether a process runs the job/);
  assert.equal(run(['status', '-h']).code, 0);
});

test('a mistyped option gets a "did you mean"', () => {
  const dest = run(['get', 'https://example.org/s.tar.gz', '--dset', '/tmp/x']);
  assert.equal(dest.code, 2);
  assert.match(dest.stderr, /Unknown option '--dset'\. Did you mean --dest\?/);
  const rate = run(['get', 'https://example.org/s.tar.gz', '--dest', '/tmp/x', '--limit-rat', '1M']);
  assert.match(rate.stderr, /Did you mean --limit-rate\?/);
  const status = run(['status', '--stat-dir', '/tmp/x']);
  assert.equal(status.code, 2);
  assert.match(status.stderr, /Did you mean --state-dir\?/);
  const far = run(['get', 'https://example.org/s.tar.gz', '--dest', '/tmp/x', '--zebra']);
  assert.equal(far.code, 2);
  assert.doesNotMatch(far.stderr, /Did you mean/, 'no guess for a word that is not near any option');

  assert.equal(closestOption('--concurency', ['concurrency', 'chunk-size']), 'concurrency');
  assert.equal(closestOption('--chunk', ['concurrency', 'chunk-size']), 'chunk-size', 'a prefix');
  assert.equal(closestOption('--x', ['dest', 'output']), null);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('status says whether the job is running now: the lock holder alive, then gone after a kill -9', { timeout: 60_000 }, async () => {
  const dirs = tempDir('cli-status');
  const origin = await FaultServer.start();
  try {
    const { archive } = await makeTarGz(4, MiB);
    const url = await origin.serve('/s.tar.gz', archive);
    const stateDir = join(dirs.path, 'state');
    const child = spawn(process.execPath, [cli, 'get', url, '--dest', join(dirs.path, 'dest'), '--state-dir', stateDir, '--chunk-size', '1M', '--limit-rate', '256K'], {
      stdio: 'ignore',
    });
    try {
      await waitFor(() => existsSync(join(stateDir, 'job.json')), 15_000, 'the job state written');
      const during = run(['status', '--state-dir', stateDir]);
      assert.equal(during.code, 0, during.stderr);
      assert.match(during.stdout, new RegExp(`running: +yes, in process ${child.pid} on `));
      const json = JSON.parse(run(['status', '--state-dir', stateDir, '--json']).stdout) as { running: { pid: number } | null };
      assert.equal(json.running?.pid, child.pid);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const after = run(['status', '--state-dir', stateDir]);
    assert.match(after.stdout, new RegExp(`running: +no \\(process ${child.pid}, which held it, is gone\\): run the same get again to resume`));
    assert.equal((JSON.parse(run(['status', '--state-dir', stateDir, '--json']).stdout) as { running: unknown }).running, null);
  } finally {
    await origin.close();
    dirs.cleanup();
  }
});

test('a re-run of a finished job (its state kept) says there was nothing left to fetch instead of an absurd rate', { timeout: 60_000 }, async () => {
  const dirs = tempDir('cli-rerun');
  const origin = await FaultServer.start();
  try {
    const { archive } = await makeTarGz(2, MiB);
    const url = await origin.serve('/s.tar.gz', archive);
    const args = ['get', url, '--dest', join(dirs.path, 'dest'), '--state-dir', join(dirs.path, 'state'), '--chunk-size', '1M', '--keep-state'];
    const runAsync = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
    const first = await runAsync();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /done: .*\([\d.]+ [KMG]?i?B\/s received\)/);
    const again = await runAsync();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^done: 2\.0 MiB in \d\d:\d\d \(nothing left to fetch\),/m);
    assert.doesNotMatch(again.stderr, /B\/s/, 'no rate for a run that fetched nothing');
  } finally {
    await origin.close();
    dirs.cleanup();
  }
});
