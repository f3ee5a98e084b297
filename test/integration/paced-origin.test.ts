// A healthy origin's normal gaps are not stalls: nginx throttled to 1 MiB/s per connection (it sends a burst a
// second) and a bursty origin (every connection pauses a few seconds, well within the idle timeout) end with
// zero stall replacements and zero failed attempts. A connection that really stalls while the others flow is
// still replaced within a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { optedOut } from '../../harness/opt-out';
import { startNginx, type Nginx } from '../../harness/nginx';
import { FaultServer, type FaultPlan } from '../../harness/fault-server';
import { eventsOf, runEngine, scratch, suiteDir } from './harness';

const MiB = 1024 * 1024;
const noNginx = optedOut('SKIP_NGINX');
let work: string;
let body: Buffer;
let nginx: Nginx | null = null;
let server: FaultServer;

before(async () => {
  work = suiteDir('paced-origin');
  body = randomBytes(12 * MiB);
  const www = join(work, 'www');
  mkdirSync(www);
  chmodSync(work, 0o755);
  writeFileSync(join(www, 'file.bin'), body);
  if (!noNginx) nginx = await startNginx({ root: www, limitRate: '1m' });
  server = await FaultServer.start({ maxResponseMs: 30_000, writeSize: 16 * 1024 });
});

after(async () => {
  await nginx?.stop();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function where(label: string): { output: string; stateDir: string } {
  const dir = scratch(work, label);
  return { output: join(dir, 'file.bin'), stateDir: join(dir, 'state') };
}

/** The defaults an operator runs with, scaled down: four connections, a 30 s idle timeout. */
const OPERATOR = { chunkSize: 2 * MiB, window: 4, concurrency: 4, idleTimeoutMs: 30_000, progressIntervalMs: 250, retries: 8, retryBaseMs: 200 };

test('a healthy nginx throttled to 1 MiB/s per connection gets zero stall replacements and zero failed attempts', async (t) => {
  if (noNginx) return t.skip(noNginx);
  const o = await runEngine(nginx!.url('/file.bin'), where('nginx-1m'), OPERATOR, undefined, 60_000);
  assert.equal(o.error, null, `${o.error?.code} ${o.error?.message}`);
  assert.deepEqual(
    eventsOf(o.events, 'attempt-failed').map((e) => `${e.index}: ${e.error.code} after ${e.durationMs} ms`),
    [],
    'no attempt failed',
  );
  assert.equal(o.summary!.stallReplacements, 0);
  assert.equal(o.summary!.retries, 0);
  // The throttle was real (12 MiB over four 1 MiB/s connections takes about 3 s): the gaps were there to misread.
  assert.ok(o.ms >= 2_000, `took ${o.ms} ms`);
  assert.ok(readFileSync(o.dest).equals(body));
});

/** Every connection's first request pauses for 2.5 s, chunk 0's early and the others' later on. */
const bursty: FaultPlan = (r) => {
  if (r.method !== 'GET' || r.range === null || r.range.start % (2 * MiB) !== 0) return undefined;
  return { kind: 'stall', afterBytes: r.range.start === 0 ? 64 * 1024 : 1536 * 1024, ms: 2_500 };
};

test('a bursty origin whose connections pause for seconds within the idle timeout gets zero stall replacements', async () => {
  server.requests.length = 0;
  server.setPlan(bursty);
  const url = await server.serve('/bursty.bin', body);
  // While chunk 0 (the one the job waits for) pauses, the others bring more than a chunk's evidence and then
  // pause themselves: their silences say the origin paces, so chunk 0 is left alone.
  const o = await runEngine(url, where('bursty'), OPERATOR, undefined, 60_000);
  assert.equal(o.error, null, `${o.error?.code} ${o.error?.message}`);
  assert.deepEqual(
    eventsOf(o.events, 'attempt-failed').map((e) => `${e.index}: ${e.error.code} after ${e.durationMs} ms`),
    [],
  );
  assert.equal(o.summary!.stallReplacements, 0);
  assert.equal(server.bodyBytesServed('/bursty.bin'), body.length, 'nothing fetched twice');
  assert.ok(readFileSync(o.dest).equals(body));
});

test('a connection that really stalls while the others flow is still replaced within a second, and counted', async () => {
  server.requests.length = 0;
  // Chunk 0 goes silent for good after 64 KiB on its first request; every other range flows.
  server.setPlan((r) => (r.method === 'GET' && r.range?.start === 0 ? { kind: 'stall', afterBytes: 64 * 1024, ms: 25_000 } : undefined));
  const url = await server.serve('/stalled.bin', body);
  const o = await runEngine(url, where('stalled'), OPERATOR, undefined, 60_000);
  assert.equal(o.error, null, `${o.error?.code} ${o.error?.message}`);
  const failed = eventsOf(o.events, 'attempt-failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.index, 0);
  assert.equal(failed[0]!.error.code, 'E_STALLED');
  assert.ok(failed[0]!.durationMs < 1_500, `replaced after ${failed[0]!.durationMs} ms (the ordinary threshold is 6 s, the idle timeout 30 s)`);
  assert.equal(o.summary!.stallReplacements, 1);
  assert.ok(o.ms < 6_000, `done in ${o.ms} ms`);
  assert.ok(readFileSync(o.dest).equals(body));
});
