// Regression: every retry delay added an abort listener to the job's cancel signal and never removed it;
// after 11 retries Node printed MaxListenersExceededWarning (seen in the CLI's progress line and in serve).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer, chunkGet, faultTimes } from '../../harness/fault-server';
import { FAST, makeFixture, runEngine, scratch, suiteDir } from './harness';

const work = suiteDir('retry-listener-leak');
after(() => rmSync(work, { recursive: true, force: true }));

test('a chunk retried 14 times leaves no abort listener behind (no MaxListenersExceededWarning)', async () => {
  const fx = await makeFixture(work, 'snap', 'tar.gz', { seed: 5, bytes: 600_000, incompressible: 0.5, maxFileBytes: 200_000 });
  const server = await FaultServer.start({ maxResponseMs: 10_000 });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const url = await server.serve('/snap.tar.gz', { file: fx.archive });
    server.setPlan(faultTimes(chunkGet(FAST.chunkSize!), { kind: 'status', status: 503 }, 14));
    const dir = scratch(work, 'leak');
    const o = await runEngine(url, { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { retries: 20, retryBaseMs: 1, retryCapMs: 5 });
    assert.ok(o.summary, `the job completes: ${o.error?.message}`);
    assert.ok(o.summary.retries >= 14, `retried ${o.summary.retries} times`);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.filter((w) => /MaxListenersExceeded/.test(w)),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    await server.close();
  }
});
