// A job that starts in the state folder of another one (another file into the same target) must not inherit
// what that job left: its journal vouched for its own staged chunks, which were then extracted as this file's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer, chunkGet } from '../../harness/fault-server';

function tarOf(dir: string, name: string, data: Buffer): Buffer {
  const src = join(dir, `src-${name}`);
  mkdirSync(src);
  writeFileSync(join(src, 'data.bin'), data);
  return execFileSync('tar', ['-cf', '-', '-C', src, 'data.bin'], { maxBuffer: 1 << 28 });
}

test("regression: a new URL into the same target reused the earlier job's staged chunks (its journal vouched for them) as its own bytes", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-otherjob-'));
  const server = await FaultServer.start();
  try {
    const a = randomBytes(600_000);
    const b = randomBytes(600_000);
    const urlA = await server.serve('/a.tar', tarOf(dir, 'a', a));
    const urlB = await server.serve('/b.tar', tarOf(dir, 'b', b));
    const options = { dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: 100_000, window: 4, concurrency: 4, retries: 0, retryBaseMs: 10 };
    // The head chunk of a is refused: the chunks after it are staged, and stay when the job fails.
    server.setPlan((r) => (r.path === '/a.tar' && chunkGet(0)(r) ? { kind: 'status', status: 404 } : undefined));
    const first = new Job({ url: urlA, ...options });
    let staged = 0;
    first.on('event', (e: EngineEvent) => e.type === 'chunk' && e.state === 'staged' && staged++);
    await assert.rejects(first.run(), (err: { code?: string }) => err.code === 'E_HTTP_STATUS');
    assert.ok(readdirSync(options.stateDir).some((n) => n.endsWith('.bin')) || staged > 0, 'the failed job left staged chunks');
    server.setPlan(() => undefined);
    const warnings: string[] = [];
    const second = new Job({ url: urlB, ...options });
    second.on('event', (e: EngineEvent) => e.type === 'warning' && warnings.push(e.code));
    await second.run();
    assert.ok(warnings.includes('LINK_NOT_MATCHED'), warnings.join(', '));
    assert.ok(readFileSync(join(options.dest, 'data.bin')).equals(b), "the tree is b's, none of a's bytes in it");
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
