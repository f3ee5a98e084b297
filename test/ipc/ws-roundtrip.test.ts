// Every channel of the contract through the WebSocket transport of `serve`, against the real engine (in
// its worker thread) and a loopback HTTP origin; each response is checked against the contract's schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer, faultTimes, rangedGet } from '../../harness/fault-server';
import { startServe, type ServeHandle } from '../../electron/serve';
import { webSocketUrlFromPage, type WebSocketApi } from '../../shared/ws-client';
import { asSerializedError, type EventMessage, type JobView } from '../../shared/contract';
import { eventSchemas, responseSchemas } from '../../shared/schemas';
import { connectApi, makeTarGz, tempDir, waitFor } from './helpers';

const MiB = 1024 * 1024;
let origin: FaultServer;
let serve: ServeHandle;
let client: WebSocketApi;
let dirs: ReturnType<typeof tempDir>;
let contents: Map<string, Buffer>;
const received: EventMessage[] = [];

before(async () => {
  dirs = tempDir('ws');
  const made = await makeTarGz(4, MiB);
  contents = made.contents;
  origin = await FaultServer.start();
  await origin.serve('/snap.tar.gz', made.archive);
  serve = await startServe({
    host: '127.0.0.1',
    port: 0,
    stateDir: join(dirs.path, 'state'),
    worker: true,
    engineOptions: { retryBaseMs: 20, retryCapMs: 200 },
  });
  client = connectApi(webSocketUrlFromPage(serve.url));
  await client.ready;
  for (const channel of Object.keys(eventSchemas) as Array<keyof typeof eventSchemas>) {
    client.api.on(channel, (payload) => {
      received.push({ channel, payload } as EventMessage);
    });
  }
});

after(async () => {
  client?.close();
  await serve?.close();
  await origin?.close();
  dirs?.cleanup();
});

function snapshots(jobId: string): JobView[] {
  return received.filter((e) => e.channel === 'jobSnapshot' && e.payload.id === jobId).map((e) => e.payload as JobView);
}

async function rejection(promise: Promise<unknown>): Promise<ReturnType<typeof asSerializedError>> {
  try {
    await promise;
  } catch (err) {
    return asSerializedError(err);
  }
  assert.fail('the call was expected to fail');
}

test('info and settings round-trip', async () => {
  const info = responseSchemas.getInfo.parse(await client.api.getInfo());
  assert.equal(info.transport, 'websocket');
  assert.deepEqual(info.capabilities, { chooseDestination: false, revealInFolder: false });
  const before = responseSchemas.getSettings.parse(await client.api.getSettings());
  assert.equal(before.chunkSize, 64 * MiB);
  const after = responseSchemas.setSettings.parse(await client.api.setSettings({ chunkSize: MiB, window: 2, concurrency: 2 }));
  assert.equal(after.chunkSize, MiB);
  assert.equal(after.window, 2);
  assert.deepEqual(await client.api.getSettings(), after);
  // Settings are persisted in the state dir.
  const stored = JSON.parse(readFileSync(join(dirs.path, 'state', 'settings.json'), 'utf8')) as { chunkSize: number };
  assert.equal(stored.chunkSize, MiB);
});

test('a job added over the socket extracts, reports its chunks, and keeps a failed attempt in its history', async () => {
  await client.api.setSettings({ chunkSize: MiB, window: 2, concurrency: 2 });
  // The first ranged GET of the first chunk fails once with a 503: the chunk retries.
  origin.setPlan(faultTimes(rangedGet(0), { kind: 'status', status: 503 }));
  const dest = join(dirs.path, 'dest-1');
  const added = responseSchemas.addJob.parse(await client.api.addJob({ url: origin.url('/snap.tar.gz'), dest }));
  assert.equal(added.dest, dest);
  await waitFor(() => snapshots(added.id).some((s) => s.state === 'done'), 30_000, 'the job to finish');
  for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);

  const list = responseSchemas.listJobs.parse(await client.api.listJobs());
  assert.ok(list.some((j) => j.id === added.id && j.state === 'done'));
  const detail = responseSchemas.getJob.parse(await client.api.getJob({ jobId: added.id }));
  assert.ok(detail.chunks.length >= 4, `chunks: ${detail.chunks.length}`);
  assert.ok(detail.chunks.every((c) => c.state === 'done'));
  assert.ok(detail.seq >= 1);
  assert.ok(detail.summary && detail.summary.bytesWritten === 4 * MiB);

  const history = responseSchemas.getChunkHistory.parse(await client.api.getChunkHistory({ jobId: added.id, index: 0 }));
  assert.ok(history.length >= 2, `history of chunk 0: ${JSON.stringify(history)}`);
  assert.equal(history[0]!.status, 503);
  assert.equal(history[0]!.error?.code, 'E_HTTP_STATUS');

  // The events seen on the socket all match the contract, and the chunk batches carry the map.
  for (const e of received) eventSchemas[e.channel].parse(e.payload);
  assert.ok(received.some((e) => e.channel === 'attempt' && e.payload.type === 'attempt-failed' && e.payload.jobId === added.id));
  const batches = received.filter((e) => e.channel === 'chunkBatch' && e.payload.jobId === added.id);
  assert.ok(batches.length > 0);
  const seqs = batches.map((b) => (b.payload as { seq: number }).seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'batches arrive in sequence',
  );
  assert.ok(received.some((e) => e.channel === 'windowOccupancy' && e.payload.jobId === added.id));

  // Finished: retrying a chunk does nothing, and reveal / dialog are not offered over the socket.
  assert.deepEqual(await client.api.retryChunkNow({ jobId: added.id, index: 0 }), { jobId: added.id, index: 0, retried: false });
  assert.equal((await rejection(client.api.revealInFolder({ jobId: added.id }))).code, 'E_UNSUPPORTED');
  assert.equal((await rejection(client.api.chooseDestination({}))).code, 'E_UNSUPPORTED');
  assert.equal((await rejection(client.api.pauseJob({ jobId: added.id }))).code, 'E_CONFLICT');
});

test('pause, resume, retry now, cancel and remove a running job', async () => {
  origin.setPlan(() => undefined);
  const dest = join(dirs.path, 'dest-2');
  // Slow enough to still be running while the calls below happen.
  const job = await client.api.addJob({ url: origin.url('/snap.tar.gz'), dest, limitRate: 256 * 1024, chunkSize: MiB });
  await waitFor(() => snapshots(job.id).some((s) => s.state === 'downloading'), 10_000, 'downloading');

  const paused = responseSchemas.pauseJob.parse(await client.api.pauseJob({ jobId: job.id }));
  assert.equal(paused.id, job.id);
  await waitFor(() => snapshots(job.id).some((s) => s.state === 'paused' && s.pauseReason === 'user'), 10_000, 'paused');

  responseSchemas.resumeJob.parse(await client.api.resumeJob({ jobId: job.id }));
  await waitFor(() => snapshots(job.id).filter((s) => s.state === 'downloading').length >= 2, 10_000, 'downloading again');

  await waitFor(() => received.some((e) => e.channel === 'attempt' && e.payload.jobId === job.id && e.payload.index === 0), 10_000, 'an attempt');
  const retried = responseSchemas.retryChunkNow.parse(await client.api.retryChunkNow({ jobId: job.id, index: 0 }));
  assert.equal(retried.retried, true);
  const history = responseSchemas.getChunkHistory.parse(await client.api.getChunkHistory({ jobId: job.id, index: 0 }));
  assert.ok(history.length >= 1);

  responseSchemas.cancelJob.parse(await client.api.cancelJob({ jobId: job.id }));
  await waitFor(() => snapshots(job.id).some((s) => s.state === 'cancelled'), 10_000, 'cancelled');
  assert.equal((await rejection(client.api.resumeJob({ jobId: job.id }))).code, 'E_CONFLICT');

  assert.deepEqual(responseSchemas.removeJob.parse(await client.api.removeJob({ jobId: job.id })), { jobId: job.id });
  await waitFor(() => received.some((e) => e.channel === 'jobRemoved' && e.payload.jobId === job.id), 5_000, 'jobRemoved');
  const list = await client.api.listJobs();
  assert.ok(!list.some((j) => j.id === job.id));
  assert.equal((await rejection(client.api.getJob({ jobId: job.id }))).code, 'E_NOT_FOUND');
});

test('the rate limit of a running job changes live over the socket (the received rate follows), is kept in the job list for a restart, and empty removes it', async (t) => {
  origin.setPlan(() => undefined);
  const dest = join(dirs.path, 'dest-rate');
  const job = await client.api.addJob({ url: origin.url('/snap.tar.gz'), dest, limitRate: 128 * 1024, chunkSize: MiB });
  await waitFor(() => snapshots(job.id).some((s) => s.state === 'downloading'), 10_000, 'downloading');
  // Measured where the engine counts received bytes (the progress in its chunk batches): the origin hands a
  // loopback socket far more than is read, so its own count says little.
  const fetched = (): number => {
    const batches = received.filter((e) => e.channel === 'chunkBatch' && e.payload.jobId === job.id);
    const last = batches.at(-1)?.payload as { progress?: { bytesFetched: number } } | undefined;
    return last?.progress?.bytesFetched ?? 0;
  };
  /** Bytes/s received over `ms`. */
  const servedRate = async (ms: number): Promise<number> => {
    const from = fetched();
    await new Promise((r) => setTimeout(r, ms));
    return ((fetched() - from) * 1000) / ms;
  };
  await new Promise((r) => setTimeout(r, 300));
  const slow = await servedRate(1_500);
  const changed = responseSchemas.setRateLimit.parse(await client.api.setRateLimit({ jobId: job.id, limitRate: MiB }));
  assert.equal(changed.options.limitRate, MiB);
  await new Promise((r) => setTimeout(r, 300));
  // Progress arrives in batches about every 100 ms: over 2 s one batch more or less is a few percent.
  const fast = await servedRate(2_000);
  t.diagnostic(`received ${Math.round(slow / 1024)} KiB/s at a 128 KiB/s limit, ${Math.round(fast / 1024)} KiB/s after the change to 1 MiB/s`);
  assert.ok(slow < 200 * 1024, `at 128 KiB/s the job received ${Math.round(slow / 1024)} KiB/s`);
  assert.ok(fast > 4 * slow && fast < 1.5 * MiB, `after the change to 1 MiB/s: ${Math.round(fast / 1024)} KiB/s (before ${Math.round(slow / 1024)} KiB/s)`);
  await waitFor(() => snapshots(job.id).some((s) => s.options.limitRate === MiB), 5_000, 'a snapshot with the new limit');
  const saved = JSON.parse(readFileSync(join(dirs.path, 'state', 'jobs.json'), 'utf8')) as {
    jobs: Array<{ id: string; options: { limitRate: number | null }; engineOptions: { limitRate?: number } }>;
  };
  const kept = saved.jobs.find((j) => j.id === job.id)!;
  assert.equal(kept.options.limitRate, MiB);
  assert.equal(kept.engineOptions.limitRate, MiB, 'the next run (after a restart) starts at the new limit');

  // Not a number, or below the engine's floor: refused by the contract.
  assert.equal((await rejection(client.api.setRateLimit({ jobId: job.id, limitRate: 'abc' as unknown as number }))).code, 'E_VALIDATION');
  assert.equal((await rejection(client.api.setRateLimit({ jobId: job.id, limitRate: 10 }))).code, 'E_VALIDATION');
  // Empty: no limit, and the job finishes at once.
  const unlimited = responseSchemas.setRateLimit.parse(await client.api.setRateLimit({ jobId: job.id, limitRate: null }));
  assert.equal(unlimited.options.limitRate, null);
  await waitFor(() => snapshots(job.id).some((s) => s.state === 'done'), 10_000, 'done once unlimited');
  assert.equal((await rejection(client.api.setRateLimit({ jobId: job.id, limitRate: MiB }))).code, 'E_CONFLICT');
});

test('a job that cannot start fails with a serialised engine error event', async () => {
  const dest = join(dirs.path, 'dest-3');
  const job = await client.api.addJob({ url: origin.url('/missing.tar.gz'), dest });
  const failed = await waitFor(() => snapshots(job.id).find((s) => s.state === 'failed'), 15_000, 'failed');
  assert.ok(failed.error && typeof failed.error.code === 'string' && Array.isArray(failed.error.causes));
  assert.ok(received.some((e) => e.channel === 'jobError' && e.payload.jobId === job.id));
});
