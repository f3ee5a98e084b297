// A job's request headers and refresh-link command given in the window, through the WebSocket transport of
// `serve` and the real engine in its worker thread: a malformed header is refused on the headers field without
// its value; the headers reach the origin (and only it), while no event, response, log line or the job list
// holds a value (the engine keeps them owner-only in the job's state folder); the refresh command gives the
// job a fresh link by itself when the signed one expires.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { startServe, type ServeHandle } from '../../electron/serve';
import { webSocketUrlFromPage, type WebSocketApi } from '../../shared/ws-client';
import { asSerializedError, type JobView } from '../../shared/contract';
import { eventSchemas, responseSchemas } from '../../shared/schemas';
import { HEADERS_FILE } from '../../electron/engine/state/layout';
import { fieldErrors } from '../../renderer/src/store/field-errors';
import { JobManager } from '../../electron/host/job-manager';
import { InProcessRunner } from '../../electron/engine/runner/in-process-runner';
import { Job } from '../../electron/engine/job/job';
import { connectApi, makeTarGz, tempDir, waitFor } from './helpers';

const MiB = 1024 * 1024;
const SECRET = 'Bearer tok-7d1f0c9a55e2';
const OLD = '?X-Amz-Signature=OLDSIG0000';
const NEW = '?X-Amz-Signature=NEWSIG1111';
let origin: FaultServer;
let serve: ServeHandle;
let client: WebSocketApi;
let dirs: ReturnType<typeof tempDir>;
let contents: Map<string, Buffer>;
let archiveSize: number;
/** Everything the window was sent: events and call answers, as the text that crossed the socket. */
const sent: string[] = [];

before(async () => {
  dirs = tempDir('job-headers');
  const made = await makeTarGz(4, MiB);
  contents = made.contents;
  archiveSize = made.archive.length;
  origin = await FaultServer.start();
  await origin.serve('/private/snap.tar.gz', made.archive);
  await origin.serve('/signed/snap.tar.gz', made.archive);
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
      sent.push(JSON.stringify({ channel, payload }));
    });
  }
  await client.api.setSettings({ chunkSize: MiB, window: 2, concurrency: 2 });
});

after(async () => {
  client?.close();
  await serve?.close();
  await origin?.close();
  dirs?.cleanup();
});

async function answer<T>(call: Promise<T>): Promise<T> {
  const value = await call;
  sent.push(JSON.stringify(value));
  return value;
}

async function refusal(call: Promise<unknown>): Promise<ReturnType<typeof asSerializedError>> {
  try {
    await call;
  } catch (err) {
    return asSerializedError(err);
  }
  assert.fail('the call was expected to be refused');
}

function filesNamed(root: string, name: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

test('a malformed header is refused on the headers field, as --header refuses it, without its value; no job is created', async () => {
  const url = origin.url('/private/snap.tar.gz');
  const cases: Array<[string, RegExp]> = [
    [`Authorization ${SECRET}`, /has no ':'/],
    [`Bad Name: ${SECRET}`, /is not a valid header name/],
    [`Range: bytes=0-1`, /cannot be set: the engine asks for the ranges itself/],
    [`X-Token: a\u0001${SECRET}`, /control characters/],
  ];
  for (const [line, why] of cases) {
    const error = await refusal(client.api.addJob({ url, dest: join(dirs.path, 'never'), headers: [line] }));
    assert.equal(error.code, 'E_VALIDATION', line);
    const fields = fieldErrors(error);
    assert.match(fields['headers'] ?? '', why, `${line}: ${JSON.stringify(fields)}`);
    assert.ok(!JSON.stringify(error).includes('tok-7d1f'), `no value in the refusal of ${line}`);
  }
  const twice = await refusal(client.api.addJob({ url, dest: join(dirs.path, 'never'), headers: ['X-Token: a', 'x-token: b'] }));
  assert.match(fieldErrors(twice)['headers'] ?? '', /given twice/);
  // The schema bounds the field too: a blank refresh command is refused by name.
  const blank = await refusal(client.api.addJob({ url, dest: join(dirs.path, 'never'), refreshUrlCommand: '  ' }));
  assert.ok(fieldErrors(blank)['refreshUrlCommand'], JSON.stringify(blank));
  // Regression: more connections than the settings' window made a job that failed at once; now a field error.
  const connections = await refusal(client.api.addJob({ url, dest: join(dirs.path, 'never'), concurrency: 4 }));
  assert.match(fieldErrors(connections)['concurrency'] ?? '', /cannot exceed the window \(2 chunks on disk\)/);
  assert.deepEqual(await client.api.listJobs(), []);
});

test('the headers reach the origin with every request; the window gets their names only, the job list and the log no value', async () => {
  // Every GET of the private file needs the token: the origin answers 401 without it.
  origin.setPlan((r) => (r.path === '/private/snap.tar.gz' && r.headers['authorization'] !== SECRET ? { kind: 'status', status: 401, body: 'no token' } : undefined));
  const from = origin.requests.length;
  const dest = join(dirs.path, 'dest-private');
  const added = responseSchemas.addJob.parse(
    await answer(client.api.addJob({ url: origin.url('/private/snap.tar.gz'), dest, headers: [`Authorization: ${SECRET}`, 'X-Client: snapshot-manager-test'] })),
  );
  assert.deepEqual(added.options.headerNames, ['authorization', 'x-client']);
  await waitFor(async () => (await answer(client.api.getJob({ jobId: added.id }))).state === 'done', 30_000, 'the job to finish');
  for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);

  const requests = origin.requests.slice(from).filter((r) => r.path === '/private/snap.tar.gz');
  assert.ok(requests.length >= 4, `${requests.length} requests`);
  assert.ok(
    requests.every((r) => r.headers['authorization'] === SECRET && r.headers['x-client'] === 'snapshot-manager-test' && r.status < 400),
    'every request carried both headers',
  );

  await answer(client.api.listJobs());
  await answer(client.api.getJobLog({ jobId: added.id }));
  const log = (await client.api.getJobLog({ jobId: added.id })).map((l) => l.text).join('\n');
  assert.match(log, /added: .*\(headers authorization: …, x-client: …\)/);
  const everything = sent.join('\n');
  assert.ok(everything.includes('"headerNames":["authorization","x-client"]'), 'the names were sent');
  for (const value of ['tok-7d1f0c9a55e2', 'snapshot-manager-test']) {
    assert.ok(!everything.includes(value), `nothing sent to the window holds ${value}`);
  }
  const state = join(dirs.path, 'state');
  const jobs = readFileSync(join(state, 'jobs.json'), 'utf8');
  assert.ok(jobs.includes(added.id) && !jobs.includes('tok-7d1f'), 'the job list holds no header value');
  assert.equal(statSync(join(state, 'jobs.json')).mode & 0o777, 0o600);
  // Done: the token goes with the rest of the job's state.
  assert.deepEqual(
    filesNamed(state, HEADERS_FILE).filter((f) => f.includes(added.id)),
    [],
    'no headers file left by the finished job',
  );
  void archiveSize;
});

test('the refresh command gives the job its fresh link by itself when the signed link expires; no signature reaches the window', async () => {
  const path = '/signed/snap.tar.gz';
  // The old signature stops working from the third chunk on (S3's answer).
  origin.setPlan((r) =>
    r.path === path && r.query === OLD && r.method === 'GET' && (r.range?.start ?? 0) >= 2 * MiB
      ? { kind: 'status', status: 403, body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', contentType: 'application/xml' }
      : undefined,
  );
  const script = join(dirs.path, 'presign.sh');
  writeFileSync(script, `echo "${origin.url(path)}${NEW}"\n`, { mode: 0o700 });
  const from = origin.requests.length;
  const dest = join(dirs.path, 'dest-signed');
  const added = responseSchemas.addJob.parse(await answer(client.api.addJob({ url: origin.url(path) + OLD, dest, refreshUrlCommand: `sh ${script}` })));
  assert.equal(added.options.refreshCommand, true);
  await waitFor(async () => (await answer(client.api.getJob({ jobId: added.id }))).state === 'done', 30_000, 'the job to finish');
  for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);
  const views = sent.filter((t) => t.includes(added.id)).map((t) => JSON.parse(t) as { channel?: string; payload?: JobView });
  assert.ok(
    views.some((v) => v.channel === 'jobSnapshot' && v.payload?.state === 'paused' && v.payload.pauseReason === 'link-expired'),
    'the job paused as link-expired on the way',
  );
  const requests = origin.requests.slice(from).filter((r) => r.path === path);
  assert.ok(
    requests.some((r) => r.query === NEW && r.status === 206),
    'the fresh link was used',
  );
  const everything = sent.join('\n');
  // Regression: the job's view carried the signed link whole (the window's hover title and "Copy details" showed it).
  assert.ok(!everything.includes('NEWSIG') && !everything.includes('OLDSIG'), 'no signature sent to the window');
  assert.ok(
    views.some((v) => v.payload?.url === `${origin.url(path)}?…`),
    'the link is sent without its query',
  );
  const stored = readFileSync(join(dirs.path, 'state', 'jobs.json'), 'utf8');
  assert.ok(stored.includes('OLDSIG'), 'the job list (0600) keeps the link whole for the next run');
  assert.ok(!everything.includes(script), 'the command itself is not sent back');
});

test('the headers are kept owner-only in the job’s state folder while the job is unfinished, and go with a cancel', async () => {
  origin.setPlan((r) => (r.path === '/private/snap.tar.gz' && r.headers['authorization'] !== SECRET ? { kind: 'status', status: 401, body: 'no token' } : undefined));
  await client.api.setSettings({ limitRate: 256 * 1024 });
  const added = await answer(client.api.addJob({ url: origin.url('/private/snap.tar.gz'), dest: join(dirs.path, 'dest-kept'), headers: [`Authorization: ${SECRET}`] }));
  const state = join(dirs.path, 'state');
  const saved = await waitFor(() => filesNamed(state, HEADERS_FILE)[0], 15_000, 'the saved headers');
  assert.equal(statSync(saved).mode & 0o777, 0o600);
  assert.ok(readFileSync(saved, 'utf8').includes('tok-7d1f'), 'the value is in the owner-only file');
  assert.ok(saved.includes(added.id), saved);
  await answer(client.api.cancelJob({ jobId: added.id }));
  await waitFor(() => filesNamed(state, HEADERS_FILE).every((f) => !f.includes(added.id)), 10_000, 'the headers file gone with the cancelled job');
  await client.api.setSettings({ limitRate: null });
  const everything = sent.join('\n');
  assert.ok(!everything.includes('tok-7d1f'));
});

test('after a restart the job gets its headers back from its state folder (the job list has none) and finishes', async () => {
  origin.setPlan((r) => (r.path === '/private/snap.tar.gz' && r.headers['authorization'] !== SECRET ? { kind: 'status', status: 401, body: 'no token' } : undefined));
  const dataDir = join(dirs.path, 'data-restart');
  const dest = join(dirs.path, 'dest-restart');
  const runner = (): InProcessRunner => new InProcessRunner((o, id) => new Job(o, id));
  const first = await JobManager.open({ dataDir, runner: runner(), engineOptions: { retryBaseMs: 20 } });
  await first.updateSettings({ chunkSize: MiB, window: 2 });
  const job = await first.add({ url: origin.url('/private/snap.tar.gz'), dest, limitRate: MiB, headers: [`Authorization: ${SECRET}`] });
  await waitFor(() => first.get(job.id).chunks.some((c) => c.state === 'done'), 15_000, 'a chunk done');
  await first.close();
  assert.ok(!readFileSync(join(dataDir, 'jobs.json'), 'utf8').includes('tok-7d1f'));

  const from = origin.requests.length;
  const second = await JobManager.open({ dataDir, runner: runner(), engineOptions: { retryBaseMs: 20 } });
  try {
    assert.deepEqual(second.view(job.id).options.headerNames, ['authorization']);
    second.resume(job.id);
    await waitFor(() => second.view(job.id).state === 'done' || second.view(job.id).state === 'failed', 30_000, 'the resumed job to end');
    assert.equal(second.view(job.id).state, 'done', JSON.stringify(second.view(job.id).error));
    for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);
    const later = origin.requests.slice(from).filter((r) => r.path === '/private/snap.tar.gz');
    assert.ok(later.length > 0 && later.every((r) => r.headers['authorization'] === SECRET), 'the resumed run sent the token');
  } finally {
    await second.close();
  }
});
