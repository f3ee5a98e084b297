// The HTTP fault table of the checklist, row by row, against the fault server: every fault ends in a tree
// byte-identical to GNU tar's extraction of the same archive, or in the right coded error with nothing
// spliced on disk. Most rows drive the Job in-process; a few go through the real CLI (NDJSON, exit codes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { requestFollowingRedirects } from '../../electron/engine/transfer/probe';
import { blockingStallMs, peerStallMs } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { connectingText } from '../../shared/connecting';
import { FaultServer, chunkGet, closedPortUrl, combinePlans, faultAlways, faultTimes, rangedGet, type Fault, type FaultPlan } from '../../harness/fault-server';
import { assertTreesEqual, sha256File } from '../helpers/archives';
import { FAST, FAST_CLI, eventsOf, makeFixture, runCli, runEngine, scratch, splicedFiles, suiteDir, type Fixture } from './harness';

const CHUNK = FAST.chunkSize!;
/** A job that should fail does so within a second or two; waiting longer only slows the suite. */
const FAILS_FAST_MS = 5_000;
let work: string;
let fx: Fixture;
let archive: Buffer;
let server: FaultServer;
let url: string;

before(async () => {
  work = suiteDir('http-faults');
  // About 2.5 MB of gzip: ~20 chunks of 128 KiB.
  fx = await makeFixture(work, 'snap', 'tar.gz', { seed: 11, bytes: 3_000_000, incompressible: 0.6, maxFileBytes: 400_000 });
  archive = readFileSync(fx.archive);
  server = await FaultServer.start({ maxResponseMs: 20_000 });
  url = await server.serve('/snap.tar.gz', { file: fx.archive });
});

after(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh plan and request log per test, on the shared server. */
function plan(p: FaultPlan | undefined): void {
  server.requests.length = 0;
  server.setPlan(p ?? (() => undefined));
}

function place(label: string): { dest: string; stateDir: string } {
  const dir = scratch(work, label);
  return { dest: join(dir, 'out'), stateDir: join(dir, 'state') };
}

/** The ranged GETs the server saw, in order, as [start, end] pairs. */
function rangesAsked(path = '/snap.tar.gz'): Array<[number, number]> {
  return server
    .requestsFor(path, 'GET')
    .filter((r) => r.range !== null)
    .map((r) => [r.range!.start, r.range!.end]);
}

function assertDone(o: Awaited<ReturnType<typeof runEngine>>): void {
  assert.equal(o.error, null, `job failed: ${o.error?.code} ${o.error?.message}`);
  assertTreesEqual(fx.reference, o.dest);
}

/** The job ended in this coded error, and soon (a stuck job is cancelled by the harness after a few seconds). */
function assertFailedWith(o: Awaited<ReturnType<typeof runEngine>>, code: string): void {
  assert.equal(o.error?.code, code, `expected ${code}, got ${o.error?.code ?? 'success'}: ${o.error?.message ?? ''}`);
}

function assertNothingSpliced(o: Awaited<ReturnType<typeof runEngine>>): void {
  assert.deepEqual(splicedFiles(fx.reference, o.dest), [], 'files in the destination differ from the archive');
}

// ---- baseline -----------------------------------------------------------------------------------------

test('baseline: no fault, the tree equals GNU tar and every byte is fetched once', async () => {
  plan(undefined);
  const o = await runEngine(url, place('baseline'));
  assertDone(o);
  assert.equal(o.summary!.mode, 'ranged');
  assert.equal(o.summary!.bytesFetched, fx.size);
  assert.equal(server.bodyBytesServed(), fx.size);
  assert.equal(o.summary!.retries, 0);
  const chunks = Math.ceil(fx.size / CHUNK);
  assert.equal(rangesAsked().length, chunks, 'one range request per chunk');
});

test('regression: extraction with sha256 read staged chunks after they were consumed (ENOENT); it verifies the compressed bytes', async () => {
  plan(faultTimes(rangedGet(3 * CHUNK), { kind: 'cut', afterBytes: 10_000 }));
  const expected = await sha256File(fx.archive);
  const o = await runEngine(url, place('sha-extract'), { sha256: expected });
  assertDone(o);
  assert.equal(o.summary!.sha256, expected);
  plan(undefined);
  const wrong = await runEngine(url, place('sha-wrong'), { sha256: expected.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }, undefined, FAILS_FAST_MS);
  assertFailedWith(wrong, 'E_CHECKSUM_MISMATCH');
});

// ---- row: server ignores Range, answers 200 ------------------------------------------------------------

test('ignored Range (200 to a ranged GET) is never written into a chunk: that attempt fails unread (E_RANGE_IGNORED) and is retried, the tree is identical', async () => {
  plan(faultTimes(rangedGet(6 * CHUNK + 10), { kind: 'ignore-range' }));
  const o = await runEngine(url, place('ignore-range'));
  assertDone(o);
  assert.equal(o.summary!.mode, 'ranged');
  const ignored = eventsOf(o.events, 'attempt-failed').filter((e) => e.error.code === 'E_RANGE_IGNORED');
  assert.equal(ignored.length, 1);
  assert.equal(ignored[0]!.bytes, 0, 'nothing of the 200 was kept');
  assert.equal(o.summary!.bytesFetched, fx.size);
});

test('an origin without range support is read as one stream from byte 0, shown as single-stream', async () => {
  plan(undefined);
  const plain = await server.serve('/plain.tar.gz', { file: fx.archive }, { acceptRanges: false });
  const o = await runEngine(plain, place('no-ranges'));
  assertDone(o);
  assert.equal(o.summary!.mode, 'single-stream');
  assert.equal(eventsOf(o.events, 'probed')[0]!.mode, 'single-stream');
  const gets = server.requestsFor('/plain.tar.gz', 'GET');
  assert.equal(gets.filter((r) => r.status === 200 && r.bytesSent === fx.size).length, 1, 'one full GET carried the body');
});

// ---- row: Content-Range differs from the request -------------------------------------------------------

for (const which of ['start', 'end'] as const) {
  test(`a Content-Range with the wrong ${which} is rejected and retried; the tree is identical`, async () => {
    const at = 5 * CHUNK;
    const wrong: Fault = which === 'start' ? { kind: 'wrong-content-range', start: at + 1 } : { kind: 'wrong-content-range', end: at + CHUNK - 2 };
    plan(faultTimes(rangedGet(at), wrong, 2));
    const o = await runEngine(url, place(`content-range-${which}`));
    assertDone(o);
    const rejected = eventsOf(o.events, 'attempt-failed').filter((e) => e.error.code === 'E_CONTENT_RANGE');
    assert.equal(rejected.length, 2);
    assert.equal(rejected[0]!.bytes, 0, 'nothing of a rejected response is kept');
    assert.ok(o.summary!.retries >= 2);
  });
}

test('a Content-Range with the wrong total is not spliced (the size changed): upstream changed', async () => {
  plan(faultTimes(rangedGet(5 * CHUNK), { kind: 'wrong-content-range', total: fx.size + 1 }));
  const o = await runEngine(url, place('content-range-total'), {}, undefined, FAILS_FAST_MS);
  assertFailedWith(o, 'E_UPSTREAM_CHANGED');
  assertNothingSpliced(o);
});

test('a Content-Range that is always wrong gives up after the retry cap with E_RETRIES_EXHAUSTED', async () => {
  const at = 4 * CHUNK;
  plan(faultAlways(rangedGet(at), { kind: 'wrong-content-range', start: at + 7 }));
  const o = await runEngine(url, place('content-range-cap'), { retries: 2 }, undefined, FAILS_FAST_MS);
  assertFailedWith(o, 'E_RETRIES_EXHAUSTED');
  assert.equal(rangesAsked().filter(([s]) => s === at).length, 3, 'retries + 1 attempts, no more');
  const causes = (o.error as Error & { cause?: { code?: string } }).cause;
  assert.equal(causes?.code, 'E_CONTENT_RANGE');
  assert.ok(o.job.chunkHistory(4).length >= 3, 'the attempt history is kept');
  assertNothingSpliced(o);
});

// ---- row: ETag / Last-Modified changes -----------------------------------------------------------------

/** From the Nth ranged GET on, the origin holds another file. */
function changesAfter(n: number, etag: string | null): FaultPlan {
  let ranged = 0;
  const other = Buffer.from(archive);
  other.fill(0x5a, Math.floor(other.length / 3));
  return (r) => (r.method === 'GET' && r.range !== null && ++ranged >= n ? { kind: 'changed', etag, body: other } : undefined);
}

test('the ETag changes between ranges: If-Range gets a 200, the job stops with E_UPSTREAM_CHANGED, never splices', async () => {
  plan(changesAfter(6, '"another-file"'));
  const o = await runEngine(url, place('etag-change'), {}, undefined, FAILS_FAST_MS);
  assertFailedWith(o, 'E_UPSTREAM_CHANGED');
  const changed = server.requests.filter((r) => r.fault === 'changed');
  assert.ok(changed.length >= 1);
  assert.ok(
    changed.every((r) => r.ifRange !== undefined && r.ifRange.startsWith('"')),
    'If-Range carries the strong ETag',
  );
  assert.ok(
    changed.every((r) => r.status === 200),
    'the origin answered the stale If-Range with the whole new file',
  );
  assertNothingSpliced(o);
});

test('Last-Modified changes between ranges (no ETag): If-Range with the date, then E_UPSTREAM_CHANGED', async () => {
  plan(undefined);
  const dated = await server.serve('/dated.tar.gz', { file: fx.archive }, { etag: null });
  plan(changesAfter(6, null));
  const o = await runEngine(dated, place('date-change'), {}, undefined, FAILS_FAST_MS);
  assertFailedWith(o, 'E_UPSTREAM_CHANGED');
  const ranged = server.requestsFor('/dated.tar.gz', 'GET').filter((r) => r.range !== null);
  assert.ok(ranged.length > 0 && ranged.every((r) => r.ifRange !== undefined && !r.ifRange.startsWith('"')), 'If-Range carries the date');
  assertNothingSpliced(o);
});

test('regression: a 2 s timer (the wait for a checkpoint in a full window) kept the CLI alive after done', async () => {
  plan(undefined);
  const { dest, stateDir } = place('cli-exit');
  // Small chunks: the window often fills with consumed chunks waiting for a checkpoint, which is when the
  // consumer waited on a timer that was never cleared.
  for (let run = 0; run < 3; run++) {
    const r = await runCli(['get', url, '--dest', `${dest}-${run}`, '--state-dir', `${stateDir}-${run}`, '--json', ...FAST_CLI], 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.last?.type, 'done');
    assert.ok(r.exitAfterLastLineMs < 1_000, `the process exited ${Math.round(r.exitAfterLastLineMs)} ms after its last line`);
  }
});

test('CLI: an ETag change mid-download exits 4 with E_UPSTREAM_CHANGED as the last NDJSON line', async () => {
  plan(changesAfter(4, '"v2"'));
  const { dest, stateDir } = place('cli-etag');
  const r = await runCli(['get', url, '--dest', dest, '--state-dir', stateDir, '--json', ...FAST_CLI], 15_000);
  assert.equal(r.code, 4, `${r.stderr}\n${JSON.stringify(r.last)}`);
  assert.equal(r.last?.type, 'error');
  assert.equal(r.last?.code, 'E_UPSTREAM_CHANGED');
  assert.ok(Array.isArray(r.last?.causes));
  assert.deepEqual(splicedFiles(fx.reference, dest), []);
});

test('CLI: the file changes between two runs (a 404 stopped the first): the second exits 4, nothing mixed', async () => {
  const path = '/rotating.tar.gz';
  const rotating = await server.serve(path, { file: fx.archive });
  plan(faultAlways((r) => r.path === path && r.range !== null && r.range.start >= 8 * CHUNK, { kind: 'status', status: 404 }));
  const { dest, stateDir } = place('cli-restart-change');
  const first = await runCli(['get', rotating, '--dest', dest, '--state-dir', stateDir, '--json', ...FAST_CLI], 15_000);
  assert.equal(first.code, 1, `${first.stderr}\n${JSON.stringify(first.last)}`);
  assert.equal(first.last?.code, 'E_HTTP_STATUS');
  const other = Buffer.from(archive);
  other[Math.floor(other.length / 2)]! ^= 0xff;
  plan(undefined);
  await server.serve(path, other);
  const second = await runCli(['get', rotating, '--dest', dest, '--state-dir', stateDir, '--json', ...FAST_CLI], 15_000);
  assert.equal(second.code, 4, `${second.stderr}\n${JSON.stringify(second.last)}`);
  assert.equal(second.last?.code, 'E_UPSTREAM_CHANGED');
  assert.equal(server.requestsFor(path, 'GET').filter((r) => r.range !== null && r.bytesSent > 0).length, 0, 'no byte of the new file was fetched');
  assert.deepEqual(splicedFiles(fx.reference, dest), []);
});

// ---- row: body shorter than Content-Length -------------------------------------------------------------

test('bodies cut mid-transfer keep their committed bytes and resume from there; nothing is fetched twice', async () => {
  const cuts: Array<[number, number]> = [
    [2 * CHUNK, 1],
    [7 * CHUNK, 50_000],
    [11 * CHUNK, CHUNK - 1],
  ];
  plan(combinePlans(...cuts.map(([at, after]) => faultTimes(rangedGet(at), { kind: 'cut', afterBytes: after }))));
  const o = await runEngine(url, place('cut'));
  assertDone(o);
  for (const [at, after] of cuts) {
    assert.ok(
      rangesAsked().some(([s]) => s === at + after),
      `the range of chunk ${at / CHUNK} resumed at its committed byte ${at + after}: ${JSON.stringify(rangesAsked())}`,
    );
  }
  assert.equal(server.bodyBytesServed('/snap.tar.gz'), fx.size, 'no byte re-fetched');
  assert.equal(o.summary!.bytesFetched, fx.size);
  assert.ok(eventsOf(o.events, 'attempt-failed').filter((e) => e.error.code === 'E_SHORT_BODY').length >= 3);
});

test('CLI: cuts and resets end in exit 0, a done line with the totals, and the reference tree', async () => {
  plan(combinePlans(faultTimes(rangedGet(3 * CHUNK), { kind: 'cut', afterBytes: 40_000 }), faultTimes(rangedGet(9 * CHUNK), { kind: 'reset' })));
  const { dest, stateDir } = place('cli-cut');
  const r = await runCli(['get', url, '--dest', dest, '--state-dir', stateDir, '--json', ...FAST_CLI], 30_000);
  assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(r.last)}`);
  assert.equal(r.last?.type, 'done');
  assert.equal(r.last?.bytesTotal, fx.size);
  assert.equal(r.last?.bytesFetched, fx.size, 'the 40,000 committed bytes were not fetched again');
  assert.ok(Number(r.last?.retries) >= 2);
  assert.equal(typeof r.last?.elapsedMs, 'number');
  assert.ok(
    r.lines.every((l) => l.type !== 'unparseable'),
    'stdout is pure NDJSON',
  );
  assertTreesEqual(fx.reference, dest);
});

// ---- row: stall after the headers ----------------------------------------------------------------------

test('a stall after the headers trips the idle timeout and the range resumes from its last byte', async () => {
  const at = 6 * CHUNK;
  plan(faultTimes(rangedGet(at), { kind: 'stall', afterBytes: 30_000 }));
  const o = await runEngine(url, place('stall'), { idleTimeoutMs: 400 });
  assertDone(o);
  const idle = eventsOf(o.events, 'attempt-failed').filter((e) => e.error.code === 'E_IDLE_TIMEOUT');
  assert.equal(idle.length, 1);
  assert.equal(idle[0]!.bytes, 30_000);
  assert.ok(
    rangesAsked().some(([s]) => s === at + 30_000),
    'resumed at the committed byte',
  );
  assert.equal(server.bodyBytesServed('/snap.tar.gz'), fx.size);
});

// ---- row: one connection stalls while the others flow ----------------------------------------------------

test('a stalled range the job waits for is replaced within a second while the other connections flow', async () => {
  const at = 2 * CHUNK;
  plan(faultTimes(rangedGet(at), { kind: 'stall', afterBytes: 30_000, ms: 15_000 }));
  const started = performance.now();
  const o = await runEngine(url, place('blocking-stall'), { idleTimeoutMs: 12_000 });
  const elapsed = performance.now() - started;
  assertDone(o);
  const stalled = eventsOf(o.events, 'attempt-failed').filter((e) => e.index === 2);
  assert.equal(stalled.length, 1);
  assert.equal(stalled[0]!.error.code, 'E_STALLED');
  assert.equal(stalled[0]!.bytes, 30_000);
  // Loopback connections recover from silences of milliseconds, so the floor applies: a quarter second (plus
  // up to one 50 ms look of the watchdog), far below the 2.4 s ordinary threshold and the 12 s idle timeout.
  assert.ok(stalled[0]!.durationMs >= 230 && stalled[0]!.durationMs < 1_200, `stall detected after ${stalled[0]!.durationMs} ms`);
  // The replacement goes out at once: the stuck attempt had made progress.
  const retry = eventsOf(o.events, 'retry-scheduled').find((e) => e.index === 2)!;
  assert.equal(retry.delayMs, 0);
  assert.ok(elapsed < 5_000, `done in ${Math.round(elapsed)} ms`);
  assert.ok(
    rangesAsked().some(([s]) => s === at + 30_000),
    'resumed at the committed byte',
  );
  assert.equal(server.bodyBytesServed('/snap.tar.gz'), fx.size);
});

test('a link with long normal pauses is not cut early: the stall threshold grows with the silences connections recover from', async () => {
  const at = 2 * CHUNK;
  // Chunks 0 and 1 arrive in pieces a second apart (and recover every time); chunk 2 goes silent for good.
  plan(
    combinePlans(
      faultTimes(rangedGet(at), { kind: 'stall', afterBytes: 30_000, ms: 15_000 }),
      faultTimes(chunkGet(0), { kind: 'trickle', bytes: 48 * 1024, everyMs: 1_000 }),
      faultTimes(chunkGet(CHUNK), { kind: 'trickle', bytes: 48 * 1024, everyMs: 1_000 }),
    ),
  );
  const started = performance.now();
  const o = await runEngine(url, place('paused-link-stall'), { idleTimeoutMs: 12_000 });
  const elapsed = performance.now() - started;
  assertDone(o);
  const stalled = eventsOf(o.events, 'attempt-failed').filter((e) => e.index === 2);
  assert.equal(stalled.length, 1);
  assert.equal(stalled[0]!.error.code, 'E_STALLED');
  // Chunks 0 and 1 hold the job up during their pauses, but the others have not moved a chunk's worth
  // meanwhile, so no early replacement; later, three times their recovered one-second silences is more
  // than the ordinary 2.4 s threshold (a fifth of 12 s): that one applies, never the idle timeout.
  assert.ok(stalled[0]!.durationMs >= 2_300 && stalled[0]!.durationMs < 6_000, `stall detected after ${stalled[0]!.durationMs} ms`);
  assert.ok(elapsed < 12_000, `done in ${Math.round(elapsed)} ms`);
  assert.ok(
    eventsOf(o.events, 'attempt-failed').every((e) => e.error.code === 'E_STALLED'),
    'no pausing range was called stalled',
  );
  assert.equal(server.bodyBytesServed('/snap.tar.gz'), fx.size);
});

test('the stall watchdog is off when the idle timeout is short, and a lone connection is left to the idle timeout', async () => {
  assert.equal(peerStallMs(2_000), null);
  assert.equal(peerStallMs(10_000), 2_000);
  assert.equal(peerStallMs(30_000), 6_000);
  assert.equal(blockingStallMs(2_000, 3), 250);
  assert.equal(blockingStallMs(6_000, 400), 1_200);
  assert.equal(blockingStallMs(2_000, 1_000), 2_000);
  // The floor doubles with each early replacement in a job.
  assert.equal(blockingStallMs(6_000, 3, 1_000), 1_000);
  assert.equal(blockingStallMs(6_000, 3, 8_000), 6_000);
  const at = 1 * CHUNK;
  plan(faultTimes(rangedGet(at), { kind: 'stall', afterBytes: 20_000, ms: 15_000 }));
  const o = await runEngine(url, place('lone-stall'), { idleTimeoutMs: 3_000, concurrency: 1 });
  assertDone(o);
  const failed = eventsOf(o.events, 'attempt-failed');
  assert.deepEqual(
    failed.map((e) => e.error.code),
    ['E_IDLE_TIMEOUT'],
  );
});

// ---- row: slow trickle that keeps progressing ----------------------------------------------------------

test('a slow trickle that keeps progressing completes: no total timeout on a body', async () => {
  // 128 KiB at 8 KiB per 60 ms is about a second, well past the 300 ms idle timeout.
  plan(faultTimes(rangedGet(3 * CHUNK), { kind: 'trickle', bytes: 8 * 1024, everyMs: 60 }));
  const o = await runEngine(url, place('trickle'), { idleTimeoutMs: 300 });
  assertDone(o);
  assert.equal(o.summary!.retries, 0);
  const slow = server.requests.find((r) => r.fault === 'trickle')!;
  assert.ok(slow.finishedAt! - slow.startedAt >= 900, `the trickle lasted ${slow.finishedAt! - slow.startedAt} ms`);
  assert.equal(slow.bytesSent, CHUNK);
});

// ---- row: 503 / 429 with Retry-After -------------------------------------------------------------------

test('503 with Retry-After: 1 is honoured before the retry', async () => {
  const at = 4 * CHUNK;
  plan(faultTimes(rangedGet(at), { kind: 'status', status: 503, retryAfter: 1 }));
  const o = await runEngine(url, place('retry-after'));
  assertDone(o);
  const scheduled = eventsOf(o.events, 'retry-scheduled');
  assert.equal(scheduled.length, 1);
  assert.equal(scheduled[0]!.delayMs, 1000);
  const attempts = server.requestsFor('/snap.tar.gz', 'GET').filter((r) => r.range?.start === at);
  assert.equal(attempts.length, 2);
  const waited = attempts[1]!.startedAt - attempts[0]!.startedAt;
  assert.ok(waited >= 950, `retried after ${waited} ms`);
});

test('429 with a far Retry-After date is capped', async () => {
  plan(faultTimes(rangedGet(4 * CHUNK), { kind: 'status', status: 429, retryAfter: new Date(Date.now() + 3_600_000).toUTCString() }));
  const o = await runEngine(url, place('retry-after-cap'), { retryAfterCapMs: 300 });
  assertDone(o);
  const scheduled = eventsOf(o.events, 'retry-scheduled');
  assert.equal(scheduled.length, 1);
  assert.equal(scheduled[0]!.delayMs, 300);
});

test('503 without Retry-After backs off exponentially with jitter, within the cap', async () => {
  plan(faultTimes(rangedGet(4 * CHUNK), { kind: 'status', status: 503 }, 4));
  const o = await runEngine(url, place('backoff'), { retryBaseMs: 40, retryCapMs: 100, retries: 5 });
  assertDone(o);
  const delays = eventsOf(o.events, 'retry-scheduled').map((e) => e.delayMs);
  assert.equal(delays.length, 4);
  delays.forEach((d, i) => assert.ok(d >= 0 && d <= Math.min(100, 40 * 2 ** i), `delay ${i + 1}: ${d} ms`));
});

// ---- row: 416 ------------------------------------------------------------------------------------------

test('416 with the pinned size is retried and completes', async () => {
  plan(faultTimes(rangedGet(5 * CHUNK), { kind: 'unsatisfiable' }));
  const o = await runEngine(url, place('416-same'));
  assertDone(o);
  assert.equal(eventsOf(o.events, 'attempt-failed').filter((e) => e.status === 416).length, 1);
});

test('416 naming another size (bytes */N) is upstream changed', async () => {
  plan(faultTimes(rangedGet(5 * CHUNK), { kind: 'unsatisfiable', total: 1000 }));
  const o = await runEngine(url, place('416-other'), {}, undefined, FAILS_FAST_MS);
  assertFailedWith(o, 'E_UPSTREAM_CHANGED');
  assertNothingSpliced(o);
});

// ---- row: 404 / 403 mid-download ----------------------------------------------------------------------

test('404 mid-download fails the job clearly (regression: a fatal chunk error while the producer waits for a window permit hung the job), keeps history and state; a later run completes', async () => {
  const at = 6 * CHUNK;
  plan(faultAlways(rangedGet(at), { kind: 'status', status: 404 }));
  const where = place('404');
  const first = await runEngine(url, where, {}, undefined, FAILS_FAST_MS);
  assertFailedWith(first, 'E_HTTP_STATUS');
  assert.equal(first.error?.details.status, 404);
  assert.match(first.error!.message, /404/);
  assert.equal(rangesAsked().filter(([s]) => s === at).length, 1, 'a 404 is not retried');
  assert.equal(first.job.chunkHistory(6).at(-1)?.status, 404);
  assert.ok(existsSync(where.stateDir));
  assertNothingSpliced(first);
  plan(undefined);
  assertDone(await runEngine(url, where));
});

test('403 mid-download in download-only mode: the later run resumes after the chunks already written', async () => {
  const at = 9 * CHUNK;
  plan(faultAlways(rangedGet(at), { kind: 'status', status: 403 }));
  const dir = scratch(work, '403');
  const where = { output: join(dir, 'snap.tar.gz'), stateDir: join(dir, 'state') };
  const first = await runEngine(url, where, {}, undefined, FAILS_FAST_MS);
  // A 403 after the probe is an expired link: the job stops with its state kept (a fresh link continues it).
  assertFailedWith(first, 'E_LINK_EXPIRED');
  assert.equal(first.error?.details.status, 403);
  plan(undefined);
  const second = await runEngine(url, where);
  assert.equal(second.error, null, second.error?.message);
  assert.equal(await sha256File(where.output), await sha256File(fx.archive));
  const firstAsked = Math.min(...rangesAsked().map(([s]) => s));
  assert.ok(firstAsked > 0 && firstAsked <= at, `the second run started at byte ${firstAsked}`);
  assert.ok(server.bodyBytesServed('/snap.tar.gz') < fx.size, 'bytes written before the 403 were not fetched again');
});

test('CLI: 404 at the probe exits 1 with E_HTTP_STATUS and a readable message', async () => {
  plan(undefined);
  const { dest, stateDir } = place('cli-404');
  const r = await runCli(['get', server.url('/missing.tar.gz'), '--dest', dest, '--state-dir', stateDir, '--json', ...FAST_CLI], 30_000);
  assert.equal(r.code, 1, `${r.stderr}\n${JSON.stringify(r.last)}`);
  assert.equal(r.last?.type, 'error');
  assert.equal(r.last?.code, 'E_HTTP_STATUS');
  assert.match(String(r.last?.message), /404/);
});

// ---- row: redirects ------------------------------------------------------------------------------------

test('a redirect to another path on the same host is followed and the final URL pinned', async () => {
  plan(faultAlways((r) => r.path === '/latest.tar.gz', { kind: 'redirect', location: '/snap.tar.gz', status: 301 }));
  const o = await runEngine(server.url('/latest.tar.gz'), place('redirect-path'));
  assertDone(o);
  assert.equal(eventsOf(o.events, 'probed')[0]!.finalUrl, url);
  assert.equal(server.requestsFor('/latest.tar.gz').length, 1, 'only the probe went to the redirecting path');
  assert.equal(server.bodyBytesServed('/snap.tar.gz'), fx.size);
});

test('a redirect to another host (another port) is followed; ranges go to the final host only', async () => {
  const mirror = await FaultServer.start();
  try {
    const final = await mirror.serve('/mirror/snap.tar.gz', { file: fx.archive });
    plan(faultAlways((r) => r.path === '/go', { kind: 'redirect', location: final, status: 302 }));
    const o = await runEngine(server.url('/go'), place('redirect-host'));
    assertDone(o);
    assert.equal(eventsOf(o.events, 'probed')[0]!.finalUrl, final);
    assert.equal(server.requestsFor('/go').length, 1);
    assert.equal(mirror.bodyBytesServed(), fx.size);
  } finally {
    await mirror.close();
  }
});

test('a redirect loop is capped with E_REDIRECT', async () => {
  plan(
    combinePlans(
      faultAlways((r) => r.path === '/loop-a', { kind: 'redirect', location: '/loop-b' }),
      faultAlways((r) => r.path === '/loop-b', { kind: 'redirect', location: '/loop-a' }),
    ),
  );
  const o = await runEngine(server.url('/loop-a'), place('redirect-loop'));
  assertFailedWith(o, 'E_REDIRECT');
  assert.ok(server.requests.length <= 30, `${server.requests.length} requests`);
});

test('redirect policy: https to http is refused (a stub origin, since the tests have no TLS)', async () => {
  let calls = 0;
  const stub = {
    request: async () => {
      calls++;
      return { statusCode: 302, headers: { location: 'http://127.0.0.1:1/snap.tar.gz' }, body: { dump: async () => undefined } };
    },
  } as unknown as Dispatcher;
  await assert.rejects(
    requestFollowingRedirects('https://mirror.example/snap.tar.gz', { method: 'HEAD', headers: {} }, { dispatcher: stub }),
    (err: { code?: string; message?: string }) => err.code === 'E_REDIRECT' && /https/.test(err.message ?? ''),
  );
  assert.equal(calls, 1, 'the plain-http location was never requested');
});

// ---- row: connection refused / offline ----------------------------------------------------------------

test('connection refused at the start is a clear E_CONNECT', async () => {
  const o = await runEngine(await closedPortUrl('/snap.tar.gz'), place('refused'), { retries: 1 });
  assertFailedWith(o, 'E_CONNECT');
  assert.match(o.error!.message, /ECONNREFUSED/);
});

test('a refused connection at the start is not a silent "Checking the source": each failed try is an event naming the host, the reason and the next try', async () => {
  const refused = await closedPortUrl('/snap.tar.gz');
  const host = new URL(refused).host;
  const o = await runEngine(refused, place('refused-events'), { retries: 3, retryBaseMs: 50, retryCapMs: 200 });
  assertFailedWith(o, 'E_CONNECT');
  const tries = eventsOf(o.events, 'connect-retry');
  assert.deepEqual(
    tries.map((e) => [e.attempt, e.host, e.code, e.reason, e.phase]),
    [1, 2, 3].map((n) => [n, host, 'E_CONNECT', 'connection refused', 'start']),
  );
  // nextAt is taken when the retry is planned, `at` when the event goes out: a millisecond or two apart.
  for (const e of tries) assert.ok(Math.abs(e.nextAt - (e.at + e.delayMs)) <= 50, `nextAt ${e.nextAt} is at + delayMs (${e.at + e.delayMs})`);
  // The job said so while probing, never as a pause (nothing was downloaded yet).
  assert.ok(eventsOf(o.events, 'job-state').every((e) => e.state !== 'paused'));
  // Full jitter may plan a retry at once (delay 0): the line then says so instead of "next try in 0 s".
  const last = tries[2]!;
  const seconds = Math.ceil((last.nextAt - last.at) / 1000);
  const next = seconds > 0 ? `next try in ${seconds} s` : 'trying again now';
  assert.equal(connectingText(last, last.at), `Connecting to ${host}: connection refused (attempt 3, ${next})`);
});

test('the origin goes away mid-download: the job pauses as unreachable (one host down is not the network offline), says each try, and resumes when it is back, nothing lost', async () => {
  plan(undefined);
  const flaky = await FaultServer.start();
  const port = flaky.port;
  const path = '/snap.tar.gz';
  const flakyUrl = await flaky.serve(path, { file: fx.archive });
  let ranged = 0;
  flaky.setPlan((r) => {
    if (r.method === 'GET' && r.range !== null && ++ranged === 8) {
      setImmediate(() => void flaky.close());
      return { kind: 'reset' };
    }
    return undefined;
  });
  const revived: { server: Promise<FaultServer> | null } = { server: null };
  let servedBefore = 0;
  const states: string[] = [];
  const tries: Array<Extract<EngineEvent, { type: 'connect-retry' }>> = [];
  try {
    const o = await runEngine(flakyUrl, place('offline'), { retries: 2 }, (e: EngineEvent) => {
      if (e.type === 'connect-retry') tries.push(e);
      if (e.type !== 'job-state') return;
      states.push(e.reason ? `${e.state}:${e.reason}` : e.state);
      if (e.state === 'paused' && e.reason === 'unreachable' && revived.server === null) {
        servedBefore = flaky.bodyBytesServed();
        // The origin comes back on the same host and port, with the same file.
        revived.server = FaultServer.start({ port }).then(async (s) => {
          await s.serve(path, { file: fx.archive });
          return s;
        });
      }
    });
    assertDone(o);
    assert.ok(states.includes('paused:unreachable'), states.join(' '));
    assert.ok(!states.includes('paused:offline'), states.join(' '));
    assert.equal(states.at(-1), 'done');
    assert.ok(revived.server, 'the job paused as unreachable');
    assert.ok(tries.length >= 1 && tries.every((e) => e.phase === 'unreachable' && e.host === `127.0.0.1:${port}`), JSON.stringify(tries));
    const again = (await revived.server).bodyBytesServed();
    assert.ok(servedBefore > 0 && again < fx.size, `before ${servedBefore}, after ${again}: committed bytes were kept`);
    assert.ok(servedBefore + again >= fx.size);
  } finally {
    await flaky.close();
    if (revived.server) await (await revived.server).close();
  }
});

// ---- row: HEAD refused or without Accept-Ranges / Content-Length -------------------------------------

test('HEAD refused (405): the probe uses Range: bytes=0-0 and the download is ranged', async () => {
  plan(faultAlways((r) => r.method === 'HEAD', { kind: 'head-refused' }));
  const o = await runEngine(url, place('head-405'));
  assertDone(o);
  assert.equal(o.summary!.mode, 'ranged');
  assert.ok(server.requests.some((r) => r.method === 'GET' && r.rangeHeader === 'bytes=0-0'));
});

test('HEAD without Accept-Ranges and Content-Length: the range probe finds range support', async () => {
  plan(faultAlways((r) => r.method === 'HEAD', { kind: 'no-range-headers' }));
  const o = await runEngine(url, place('head-bare'));
  assertDone(o);
  assert.equal(o.summary!.mode, 'ranged');
});

test('no range support and no Content-Length (chunked): single stream, identical tree', async () => {
  plan(faultAlways(() => true, { kind: 'no-range-headers' }));
  const o = await runEngine(url, place('chunked'));
  assertDone(o);
  assert.equal(o.summary!.mode, 'single-stream');
  assert.equal(eventsOf(o.events, 'probed')[0]!.size, null);
});

test('single stream cut mid-body: a clear error (no range support means no resume), nothing spliced', async () => {
  plan(undefined);
  const plain = await server.serve('/plain-cut.tar.gz', { file: fx.archive }, { acceptRanges: false });
  plan(faultTimes((r) => r.path === '/plain-cut.tar.gz' && r.method === 'GET' && r.rangeHeader === undefined, { kind: 'cut', afterBytes: Math.floor(fx.size / 2) }));
  const o = await runEngine(plain, place('single-cut'));
  assertFailedWith(o, 'E_SHORT_BODY');
  assertNothingSpliced(o);
});
