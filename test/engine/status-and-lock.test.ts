// `status` reads a job's journal (progress, failed chunks with their attempts); one process per job at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import { FaultServer, faultAlways, rangedGet } from '../../harness/fault-server';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');

test('status shows committed progress and a failed chunk with every attempt and its cause', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-status-'));
  const server = await FaultServer.start();
  try {
    const body = randomBytes(400_000);
    const url = await server.serve('/raw.bin', body);
    let n = 0;
    server.setPlan((r) => {
      if (!r.range || r.range.start !== 200_000) return undefined;
      n++;
      return n === 1 ? { kind: 'status', status: 503 } : { kind: 'status', status: 404 };
    });
    const stateDir = join(dir, 'state');
    const job = new Job({ url, output: join(dir, 'raw.bin'), stateDir, chunkSize: 100_000, window: 2, concurrency: 1, retryBaseMs: 10 });
    await assert.rejects(job.run(), (err: unknown) => (err as { code?: string }).code === 'E_HTTP_STATUS');
    const r = spawnSync(process.execPath, [cli, 'status', '--state-dir', stateDir, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.state.identity.mode, 'download');
    assert.equal(report.committedBytes, 200_000, 'chunks 0 and 1 are in the output for good');
    assert.equal(report.failedChunks.length, 1);
    const failed = report.failedChunks[0];
    assert.equal(failed.index, 2);
    assert.deepEqual(
      failed.attempts.map((a: { status: number }) => a.status),
      [503, 404],
    );
    assert.equal(failed.attempts[1].error.code, 'E_HTTP_STATUS');
    const text = spawnSync(process.execPath, [cli, 'status', '--state-dir', stateDir], { encoding: 'utf8' });
    assert.match(text.stdout, /chunk 2: 2 failed attempt/);
    assert.match(text.stdout, /HTTP 404/);
    // The next run resumes after the committed chunks and completes once the file is back.
    server.setPlan(() => undefined);
    await new Job({ url, output: join(dir, 'raw.bin'), stateDir, chunkSize: 100_000, window: 2, concurrency: 1 }).run();
    assert.ok(readFileSync(join(dir, 'raw.bin')).equals(body));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second get on the same job is refused, naming the process that holds it; a dead holder's lock is taken over", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-lock-'));
  const server = await FaultServer.start();
  try {
    const body = randomBytes(300_000);
    const url = await server.serve('/raw.bin', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 50 }));
    const out = join(dir, 'raw.bin');
    const args = [cli, 'get', url, '--output', out, '--chunk-size', '100K', '--window', '2'];
    const first = spawn(process.execPath, args, { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 800));
    const second = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
    assert.equal(second.status, 2, second.stderr);
    assert.match(second.stderr, /E_LOCKED/);
    assert.match(second.stderr, new RegExp(`process ${first.pid}`));
    first.kill('SIGKILL');
    await new Promise((r) => first.on('exit', r));
    server.setPlan(() => undefined);
    // Asynchronously: the origin runs in this process, and spawnSync would block it.
    const third = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });
    assert.equal(third.status, 0, third.stderr);
    assert.ok(readFileSync(out).equals(body));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
