// A completed job leaves nothing beside its target (the state folder held the source URL with its query
// string) unless --keep-state; `status` still answers; the app and `serve` list finished jobs from their own
// data folder, whose files are owner-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import { removeJobState } from '../../electron/engine/state/state-cleanup';
import { JobManager } from '../../electron/host/job-manager';
import { InProcessRunner } from '../../electron/engine/runner/in-process-runner';
import { FaultServer } from '../../harness/fault-server';
import { tarArchive } from '../hostile/tar-builder';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');

function run(args: string[], dataHome?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = dataHome ? { ...process.env, XDG_DATA_HOME: dataHome } : process.env;
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Every file under `dir` (not following links) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesContaining(full, needle));
    else if (e.isFile() && readFileSync(full).includes(needle)) out.push(full);
  }
  return out;
}

const snapshot = () =>
  tarArchive([
    { name: 'a.bin', data: randomBytes(250_000) },
    { name: 'b.bin', data: randomBytes(120_000) },
  ]);

test('the state folder stays beside the target after a completed job, holding the source URL with its query string', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-leftover-'));
  const server = await FaultServer.start();
  try {
    const url = `${await server.serve('/snap.tar', snapshot())}?X-Amz-Signature=s3cr3tsignature`;
    const work = join(dir, 'work');
    const dataHome = join(dir, 'data');
    const dest = join(work, 'node');
    const done = await run(['get', url, '--dest', dest, '--chunk-size', '100K', '--window', '2'], dataHome);
    assert.equal(done.status, 0, done.stderr);
    assert.deepEqual(readdirSync(work), ['node'], 'nothing is left beside the target');
    assert.deepEqual(filesContaining(dir, 's3cr3tsignature'), [], 'neither beside the target nor in the completion record');
    const status = await run(['status', '--dest', dest], dataHome);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^complete: .*snap\.tar finished into /);
    const json = await run(['status', '--dest', dest, '--json'], dataHome);
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { state: unknown; completed: { summary: { entries: number } } | null };
    assert.equal(report.state, null);
    assert.equal(report.completed?.summary.entries, 2);
    // Without the app's record (another data folder), status can only say what it sees.
    const bare = await run(['status', '--dest', dest], join(dir, 'other-data'));
    assert.match(bare.stdout, /removed its state/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--keep-state keeps the state of a completed job (owner-only), and status says it is complete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-keepstate-'));
  const server = await FaultServer.start();
  try {
    const url = await server.serve('/snap.tar', snapshot());
    const dest = join(dir, 'node');
    const done = await run(['get', url, '--dest', dest, '--chunk-size', '100K', '--window', '2', '--keep-state']);
    assert.equal(done.status, 0, done.stderr);
    const stateDir = join(dir, '.node.snapshot-manager');
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(stateDir, 'job.json')).mode & 0o777, 0o600);
    const status = await run(['status', '--dest', dest]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /progress: +complete/);
    // A re-run of the completed job is a no-op, and (without --keep-state this time) tidies up.
    const again = await run(['get', url, '--dest', dest, '--chunk-size', '100K', '--window', '2']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /ALREADY_COMPLETE/);
    assert.equal(existsSync(stateDir), false);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status never prints a presigned signature: the kept state holds the URL, status shows its host and path only (text and --json)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-status-redact-'));
  const server = await FaultServer.start();
  try {
    const url = `${await server.serve('/snap.tar', snapshot())}?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=s3cr3tsignature`;
    const dest = join(dir, 'node');
    const done = await run(['get', url, '--dest', dest, '--chunk-size', '100K', '--window', '2', '--keep-state']);
    assert.equal(done.status, 0, done.stderr);
    assert.notEqual(filesContaining(join(dir, '.node.snapshot-manager'), 's3cr3tsignature').length, 0, 'the kept state holds the URL it resumes with');
    for (const args of [
      ['status', '--dest', dest],
      ['status', '--dest', dest, '--json'],
    ]) {
      const status = await run(args);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /snap\.tar/, 'status names the object');
      for (const secret of ['s3cr3tsignature', 'AKIDEXAMPLE'])
        assert.ok(!(status.stdout + status.stderr).includes(secret), `${args.join(' ')} printed ${secret}:\n${status.stdout}`);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the app and serve list a finished job from their own data folder (0600 jobs.json in 0700 folders) once its state is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-applist-'));
  const server = await FaultServer.start();
  try {
    const url = await server.serve('/snap.tar', snapshot());
    const dataDir = join(dir, 'data');
    const manager = await JobManager.open({ dataDir, runner: new InProcessRunner((o, id) => new Job(o, id)) });
    const job = await manager.add({ url, dest: join(dir, 'node'), chunkSize: 256 * 1024, window: 2 });
    const end = Date.now() + 20_000;
    while (manager.view(job.id).state !== 'done' && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(manager.view(job.id).state, 'done');
    await manager.close();
    assert.equal(existsSync(manager.stateDirOf(job.id)), false, 'the job state went');
    assert.equal(statSync(join(dataDir, 'jobs.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'jobs')).mode & 0o777, 0o700);
    const reopened = await JobManager.open({ dataDir, runner: new InProcessRunner((o, id) => new Job(o, id)) });
    try {
      const listed = reopened.list();
      assert.deepEqual(
        listed.map((j) => [j.id, j.state]),
        [[job.id, 'done']],
      );
      assert.ok(listed[0]!.summary, 'with its summary');
    } finally {
      await reopened.close();
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('regression: a kill while a completed job removed its state could leave job.json.prev (incomplete) behind, and the re-run fetched the whole file again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'removal-order-'));
  for (const name of ['job.json', 'job.json.prev', 'journal.log', 'chunk-3.bin', 'checkpoint.json.prev']) await fsp.writeFile(join(dir, name), name);
  const order: string[] = [];
  const realRm = fsp.rm;
  (fsp as { rm: typeof fsp.rm }).rm = async (path, options) => {
    order.push(String(path).split('/').pop()!);
    return realRm(path, options);
  };
  try {
    await removeJobState(dir);
  } finally {
    (fsp as { rm: typeof fsp.rm }).rm = realRm;
    await realRm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(order.slice(-2), ['job.json.prev', 'job.json'], `removal order: ${order.join(', ')}`);
});

test('regression: a re-run of a completed job (or one killed between the removal of its state and `done`) was refused with E_DEST_NOT_EMPTY; it is a no-op, and a changed origin is exit 4', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-rerun-'));
  const server = await FaultServer.start();
  try {
    const dataHome = join(dir, 'data');
    const dest = join(dir, 'node');
    const url = await server.serve('/rerun.tar', snapshot());
    const args = ['get', url, '--dest', dest, '--chunk-size', '100K', '--window', '2'];
    const first = await run(args, dataHome);
    assert.equal(first.status, 0, first.stderr);
    const before = server.requests.length;
    const again = await run(args, dataHome);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /ALREADY_COMPLETE/);
    assert.equal(server.requests.slice(before).filter((r) => r.range).length, 0, 'nothing fetched again');
    assert.deepEqual(readdirSync(dir).sort(), ['data', 'node'], 'the no-op leaves no state folder either');
    // The same path now serves another snapshot: not extracted over the old one without --restart --force.
    await server.serve('/rerun.tar', snapshot());
    const changed = await run(args, dataHome);
    assert.equal(changed.status, 4, changed.stderr);
    assert.match(changed.stderr, /E_UPSTREAM_CHANGED/);
    assert.match(changed.stderr, /--restart --force/);
    const replaced = await run([...args, '--restart', '--force'], dataHome);
    assert.equal(replaced.status, 0, replaced.stderr);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
