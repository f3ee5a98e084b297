// Resuming a download-only job checks what the output file still holds before trusting the state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer } from '../../harness/fault-server';

for (const [label, keep] of [
  ['a truncated', 150_000],
  ['an emptied', 0],
] as const) {
  test(`--output resume does not check the file's length: ${label} output is fetched again, not extended with zeros`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-outlen-'));
    const server = await FaultServer.start();
    try {
      const body = randomBytes(400_000);
      const url = await server.serve('/raw.bin', body);
      // Chunk 3 is missing at first: chunks 0-2 are committed, then the job fails.
      server.setPlan((r) => (r.range?.start === 300_000 ? { kind: 'status', status: 404 } : undefined));
      const out = join(dir, 'raw.bin');
      const options = { url, output: out, stateDir: join(dir, 'state'), chunkSize: 100_000, window: 2, concurrency: 1, retryBaseMs: 10 };
      await assert.rejects(new Job(options).run(), (err: { code?: string }) => err.code === 'E_HTTP_STATUS');
      truncateSync(out, keep);
      server.setPlan(() => undefined);
      const warnings: string[] = [];
      const job = new Job(options);
      job.on('event', (e: EngineEvent) => e.type === 'warning' && warnings.push(e.code));
      await job.run();
      assert.ok(readFileSync(out).equals(body), 'the output equals the origin file');
      assert.ok(warnings.includes('OUTPUT_SHORTER'), warnings.join(', '));
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
