// A frozen process (laptop sleep, SIGSTOP) and a full disk: both pause the work, and both continue by
// themselves, losing no committed byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer, chunkGet, faultAlways, rangedGet } from '../../harness/fault-server';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');

test('SIGSTOP longer than the idle timeout, then SIGCONT: the job completes untouched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-stop-'));
  const server = await FaultServer.start();
  try {
    const body = randomBytes(1_500_000);
    const url = await server.serve('/raw.bin', body);
    // ~1.2 MB/s in all: the download takes a bit over a second, so the freeze lands mid-transfer.
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 16_384, everyMs: 50 }));
    const out = join(dir, 'raw.bin');
    const child = spawn(process.execPath, [cli, 'get', url, '--output', out, '--chunk-size', '256K', '--window', '4', '--idle-timeout', '1', '--retry-base', '50ms', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 600));
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2500)); // 2.5x the idle timeout
    child.kill('SIGCONT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 0, stdout.split('\n').slice(-3).join('\n'));
    assert.ok(readFileSync(out).equals(body), 'byte-identical after the freeze');
    const last = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.equal(last.type, 'done');
    assert.ok(last.bytesFetched < body.length * 1.5, `re-fetched little: ${last.bytesFetched} for ${body.length}`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function mountTmpfs(path: string, size: string): boolean {
  try {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `options` until it completes, freeing `filler` 300 ms after the job pauses as disk-full; returns the states it went through. */
async function runFreeingSpace(options: ConstructorParameters<typeof Job>[0], filler: string): Promise<string[]> {
  const job = new Job(options);
  const states: string[] = [];
  let freed = false;
  job.on('event', (e: EngineEvent) => {
    if (e.type === 'job-state') states.push(e.reason ? `${e.state}:${e.reason}` : e.state);
    if (e.type === 'job-state' && e.reason === 'disk-full' && !freed) {
      freed = true;
      setTimeout(() => rmSync(filler), 300);
    }
  });
  await job.run();
  return states;
}

for (const where of ['staging (extraction)', 'the output written in place (download)'] as const) {
  test(`ENOSPC while writing ${where} pauses as disk-full and resumes by itself once space is freed`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-enospc-'));
    const small = join(dir, 'small');
    if (!mountTmpfs(small, '1m')) {
      t.skip('cannot mount a small tmpfs here (needs root); the disk-full path is not exercised');
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const server = await FaultServer.start();
    try {
      const extract = where.startsWith('staging');
      const file = randomBytes(1_000_000);
      let body = file;
      if (extract) {
        mkdirSync(join(dir, 'src'));
        writeFileSync(join(dir, 'src', 'raw.bin'), file);
        body = execFileSync('tar', ['-cf', '-', '-C', join(dir, 'src'), 'raw.bin'], { maxBuffer: 1 << 28 });
      }
      const url = await server.serve('/raw.bin', body);
      // Extraction reads the head chunk as it arrives: it must trickle for the next one to be staged in full.
      if (extract) server.setPlan(faultAlways(chunkGet(0), { kind: 'trickle', bytes: 16 * 1024, everyMs: 20 }));
      // Leave ~200 KB free on the small file system: less than one 256 KiB chunk, far less than the output.
      const filler = join(small, 'filler');
      writeFileSync(filler, Buffer.alloc(800 * 1024));
      // Extraction without checkpoints: a checkpoint that finds the disk full fails the job (not what is tested here).
      const target = extract ? { dest: join(dir, 'out'), stateDir: join(small, 'state'), checkpoints: false } : { output: join(small, 'raw.bin'), stateDir: join(dir, 'state') };
      // force: the up-front space check would refuse (rightly); this test is about running out mid-way.
      const states = await runFreeingSpace({ url, ...target, chunkSize: 256 * 1024, window: 2, concurrency: 2, retryBaseMs: 10, force: true }, filler);
      assert.ok(states.includes('paused:disk-full'), states.join(','));
      assert.ok(readFileSync(extract ? join(dir, 'out', 'raw.bin') : join(small, 'raw.bin')).equals(file), 'byte-identical after the disk-full pause');
      assert.ok(server.bodyBytesServed('/raw.bin') < body.length * 1.5);
    } finally {
      await server.close();
      try {
        execFileSync('umount', [small]);
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
