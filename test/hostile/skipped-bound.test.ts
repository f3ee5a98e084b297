// An archive of a great many members that are all skipped (FIFOs here): the record of them is a count per
// code and the first SAMPLE_LIMIT members, in memory, in checkpoints and in the summary, while each one is
// still reported as a warning event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, type JobOptions } from '../../electron/engine/job/job';
import { SAMPLE_LIMIT } from '../../electron/engine/extract/entry-tally';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer } from '../../harness/fault-server';
import { tarArchive, type RawEntry } from './tar-builder';

const MEMBERS = 200_000;
const CHUNK = 8 * 1024 * 1024;

test('the skipped-entry list has no bound: 200,000 skipped members, bounded checkpoint and done line', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-skipped-'));
  const server = await FaultServer.start();
  try {
    const members: RawEntry[] = [{ name: 'ok.txt', data: 'kept' }];
    for (let i = 0; i < MEMBERS; i++) members.push({ name: `fifo/${String(i).padStart(6, '0')}`, type: '6', mode: 0o644 });
    const tar = tarArchive(members);
    const url = await server.serve('/fifos.tar', tar);
    const lastChunk = Math.floor((tar.length - 1) / CHUNK) * CHUNK;
    // The first run stops before the last chunk, leaving a checkpoint with most members skipped.
    server.setPlan((r) => (r.range?.start === lastChunk ? { kind: 'status', status: 404 } : undefined));
    const options: JobOptions = { url, dest: join(dir, 'out'), stateDir: join(dir, 'state'), chunkSize: CHUNK, window: 2, concurrency: 2, retryBaseMs: 10 };
    await assert.rejects(new Job(options).run(), (err: { code?: string }) => err.code === 'E_HTTP_STATUS');
    const checkpointBytes = statSync(join(options.stateDir, 'checkpoint.json')).size;
    assert.ok(checkpointBytes < 512 * 1024, `checkpoint is ${checkpointBytes} bytes`);
    const saved = JSON.parse(readFileSync(join(options.stateDir, 'checkpoint.json'), 'utf8')) as { extract: { skipped: unknown[]; skippedCounts: Record<string, number> } };
    assert.ok(
      saved.extract.skippedCounts['UNSUPPORTED_TYPE']! > MEMBERS / 2,
      `the checkpoint counts the members skipped so far (${saved.extract.skippedCounts['UNSUPPORTED_TYPE']})`,
    );
    assert.equal(saved.extract.skipped.length, SAMPLE_LIMIT);

    server.setPlan(() => undefined);
    let warnings = 0;
    let doneLine = '';
    const job = new Job(options);
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'warning' && e.entry) warnings++;
      if (e.type === 'done') doneLine = JSON.stringify(e);
    });
    const summary = await job.run();
    assert.equal(summary.skippedTotal, MEMBERS, 'every skipped member is counted, across the restart');
    assert.deepEqual(summary.skippedByCode, { UNSUPPORTED_TYPE: MEMBERS });
    assert.equal(summary.skipped.length, SAMPLE_LIMIT);
    assert.equal(summary.skipped[0]!.entry, 'fifo/000000', 'the sample is the first ones');
    assert.ok(doneLine.length < 512 * 1024, `the done line is ${doneLine.length} bytes`);
    assert.ok(warnings > 0 && warnings < MEMBERS, `the resumed run streamed a warning for each member it skipped (${warnings})`);
    assert.equal(readFileSync(join(options.dest!, 'ok.txt'), 'utf8'), 'kept');
    console.log(
      `# ${MEMBERS} skipped members: checkpoint ${checkpointBytes} bytes, done line ${doneLine.length} bytes, heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
