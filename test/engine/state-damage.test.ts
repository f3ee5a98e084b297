// Damage to a job's state between runs (made here by the test): the job keeps a previous generation of its
// state from the first save, says so when none can be read, and keeps its files owner-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, type JobOptions } from '../../electron/engine/job/job';
import { FaultServer } from '../../harness/fault-server';
import { tarArchive } from '../hostile/tar-builder';

const CHUNK = 100_000;

function archive(): { tar: Buffer; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 8; i++) files.set(`data/f${i}.bin`, randomBytes(50_000));
  return { tar: tarArchive([{ name: 'data/', type: '5', mode: 0o755 }, ...[...files].map(([name, data]) => ({ name, data, mode: 0o644 }))]), files };
}

/** A first run that stops with an error partway (chunk 3 missing), leaving the job's state behind. */
async function interruptedJob(server: FaultServer, dir: string): Promise<{ options: JobOptions; files: Map<string, Buffer> }> {
  const { tar, files } = archive();
  const url = await server.serve('/snap.tar', tar);
  server.setPlan((r) => (r.range?.start === 3 * CHUNK ? { kind: 'status', status: 404 } : undefined));
  const options: JobOptions = { url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: CHUNK, window: 2, concurrency: 1, retryBaseMs: 10 };
  await assert.rejects(new Job(options).run(), (err: { code?: string }) => err.code === 'E_HTTP_STATUS');
  server.setPlan(() => undefined);
  return { options, files };
}

test("an extraction job's job.json has no previous generation: a damaged one lost the job and the re-run blamed the operator", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-jobjson-'));
  const server = await FaultServer.start();
  try {
    const { options, files } = await interruptedJob(server, dir);
    // A torn write of the only generation (or a disk that lost it).
    writeFileSync(join(options.stateDir, 'job.json'), '{"version":1,"identity":{"url');
    await new Job(options).run();
    for (const [name, data] of files) assert.ok(readFileSync(join(options.dest!, name)).equals(data), name);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a job state that exists but cannot be read is reported as damaged, with what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-jobjson2-'));
  const server = await FaultServer.start();
  try {
    const { options } = await interruptedJob(server, dir);
    writeFileSync(join(options.stateDir, 'job.json'), 'garbage');
    writeFileSync(join(options.stateDir, 'job.json.prev'), '');
    await assert.rejects(new Job(options).run(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'E_STATE_UNREADABLE', err.message);
      assert.match(err.message, /cannot be read/);
      assert.match(err.message, /--restart/);
      return true;
    });
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files holding the URL are created 0600 in a 0700 state folder', { skip: process.platform === 'win32' && 'POSIX modes' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-modes-'));
  const server = await FaultServer.start();
  try {
    const { options } = await interruptedJob(server, dir);
    assert.equal(statSync(options.stateDir).mode & 0o777, 0o700, 'state folder');
    for (const name of ['job.json', 'job.json.prev', 'journal.log', 'checkpoint.json']) {
      assert.equal(statSync(join(options.stateDir, name)).mode & 0o777, 0o600, name);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
