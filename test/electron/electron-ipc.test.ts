// The Electron path end to end without Electron's binary: the compiled preload (against a fake of
// contextBridge/ipcRenderer) → the Electron transport (against a fake ipcMain/webContents) → the same
// host dispatch → the real engine and a loopback origin. Also: the sender check, and that destinations
// must come from the folder dialog.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { JobManager } from '../../electron/host/job-manager';
import { InProcessRunner } from '../../electron/engine/runner/in-process-runner';
import { Job } from '../../electron/engine/job/job';
import { Host } from '../../electron/host/host';
import { attachElectronTransport } from '../../electron/transport/electron-transport';
import { asSerializedError, IPC_EVENTS, type Api, type EventMessage, type JobView } from '../../shared/contract';
import { responseSchemas } from '../../shared/schemas';
import { makeTarGz, tempDir, waitFor } from '../ipc/helpers';
import { FakeIpcMain, FakeWebContents, loadPreload, type FakeFrame } from './fake-electron';

const MiB = 1024 * 1024;
const preloadPath = join(__dirname, '..', '..', 'electron', 'preload.js');
let origin: FaultServer;
let manager: JobManager;
let host: Host;
let dirs: ReturnType<typeof tempDir>;
let api: Api;
let exposed: Map<string, unknown>;
let frame: FakeFrame;
let contents: Map<string, Buffer>;
const ipcMain = new FakeIpcMain();
const webContents = new FakeWebContents();
const revealed: string[] = [];
let dialogAnswer: string | null = null;
const snapshots: JobView[] = [];

before(async () => {
  dirs = tempDir('electron-ipc');
  const made = await makeTarGz(3, MiB);
  contents = made.contents;
  origin = await FaultServer.start();
  await origin.serve('/snap.tar.gz', made.archive);
  manager = await JobManager.open({ dataDir: join(dirs.path, 'data'), runner: new InProcessRunner((o, id) => new Job(o, id)), engineOptions: { retryBaseMs: 20 } });
  host = new Host(manager, {
    transport: 'electron',
    version: 'test',
    platform: process.platform,
    destinationsFromDialogOnly: true,
    chooseDestination: async () => dialogAnswer,
    revealInFolder: (path) => {
      revealed.push(path);
    },
  });
  attachElectronTransport(host, ipcMain, { target: () => webContents });
  frame = { url: 'app://renderer/index.html', parent: null };
  ({ api, exposed } = loadPreload(preloadPath, ipcMain, webContents, () => frame));
  api.on('jobSnapshot', (job) => {
    snapshots.push(job);
  });
});

after(async () => {
  host?.close();
  await manager?.close();
  await origin?.close();
  dirs?.cleanup();
});

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return asSerializedError(err).code;
  }
  assert.fail('expected a rejection');
}

test('preload exposes only the Api: one function per invoke channel plus on()', () => {
  assert.deepEqual([...exposed.keys()], ['snapshotManager']);
  const keys = Object.keys(api).sort();
  assert.deepEqual(keys, Object.keys(responseSchemas).concat('on').sort());
  for (const key of keys) assert.equal(typeof (api as unknown as Record<string, unknown>)[key], 'function', key);
  // The compiled preload pulls in nothing but electron (a sandboxed preload cannot require more).
  const source = readFileSync(preloadPath, 'utf8');
  const required = [...source.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  assert.deepEqual(required, ['electron']);
  assert.ok(!/ipcRenderer\s*[,}]/.test(source.slice(source.indexOf('exposeInMainWorld'))), 'ipcRenderer itself is not exposed');
});

test('every channel round-trips through preload and the Electron transport', async () => {
  const info = responseSchemas.getInfo.parse(await api.getInfo());
  assert.deepEqual(info.capabilities, { chooseDestination: true, revealInFolder: true });
  assert.equal(info.transport, 'electron');
  responseSchemas.setSettings.parse(await api.setSettings({ chunkSize: MiB, window: 2 }));
  assert.equal((await api.getSettings()).window, 2);

  // A destination the renderer made up is refused; the one from the dialog (and below it) is accepted.
  const chosen = join(dirs.path, 'chosen');
  mkdirSync(chosen);
  assert.equal(await rejection(api.addJob({ url: origin.url('/snap.tar.gz'), dest: join(dirs.path, 'made-up') })), 'E_FORBIDDEN');
  assert.equal(await rejection(api.setSettings({ defaultDest: join(dirs.path, 'made-up') })), 'E_FORBIDDEN');
  dialogAnswer = chosen;
  assert.deepEqual(await api.chooseDestination({ title: 'Where?' }), { path: chosen });
  const dest = join(chosen, 'node-1');
  const job = responseSchemas.addJob.parse(await api.addJob({ url: origin.url('/snap.tar.gz'), dest }));
  await waitFor(() => snapshots.some((s) => s.id === job.id && s.state === 'done'), 30_000, 'done');
  for (const [name, body] of contents) assert.deepEqual(readFileSync(join(dest, name)), body, name);

  const detail = responseSchemas.getJob.parse(await api.getJob({ jobId: job.id }));
  assert.ok(detail.chunks.length >= 3 && detail.chunks.every((c) => c.state === 'done'));
  assert.ok((await api.listJobs()).some((j) => j.id === job.id));
  responseSchemas.getChunkHistory.parse(await api.getChunkHistory({ jobId: job.id, index: 0 }));
  assert.equal((await api.retryChunkNow({ jobId: job.id, index: 0 })).retried, false);
  assert.deepEqual(await api.revealInFolder({ jobId: job.id }), { revealed: true });
  assert.deepEqual(revealed, [dest]);

  // A second job to pause, resume, cancel and remove.
  const slow = await api.addJob({ url: origin.url('/snap.tar.gz'), dest: join(chosen, 'node-2'), limitRate: 256 * 1024 });
  await waitFor(() => snapshots.some((s) => s.id === slow.id && s.state === 'downloading'), 10_000, 'downloading');
  responseSchemas.pauseJob.parse(await api.pauseJob({ jobId: slow.id }));
  await waitFor(() => snapshots.some((s) => s.id === slow.id && s.state === 'paused'), 10_000, 'paused');
  responseSchemas.resumeJob.parse(await api.resumeJob({ jobId: slow.id }));
  responseSchemas.cancelJob.parse(await api.cancelJob({ jobId: slow.id }));
  await waitFor(() => snapshots.some((s) => s.id === slow.id && s.state === 'cancelled'), 10_000, 'cancelled');
  assert.deepEqual(await api.removeJob({ jobId: slow.id }), { jobId: slow.id });
  assert.ok(!(await api.listJobs()).some((j) => j.id === slow.id));

  // Events reached the renderer as batches on the one events channel, each a list of typed events.
  const batches = webContents.sent.filter((s) => s.channel === IPC_EVENTS);
  assert.ok(batches.length > 0);
  const channels = new Set(batches.flatMap((b) => (b.args[0] as EventMessage[]).map((e) => e.channel)));
  for (const c of ['jobSnapshot', 'chunkBatch', 'windowOccupancy', 'jobRemoved'] as const) assert.ok(channels.has(c), c);
});

test('a call from a subframe or from another page is refused', async () => {
  const appFrame = frame;
  frame = { url: 'app://renderer/index.html', parent: appFrame };
  assert.equal(await rejection(api.listJobs()), 'E_FORBIDDEN');
  frame = { url: 'https://evil.example/', parent: null };
  assert.equal(await rejection(api.listJobs()), 'E_FORBIDDEN');
  frame = { url: 'file:///etc/index.html', parent: null };
  assert.equal(await rejection(api.getSettings()), 'E_FORBIDDEN');
  frame = appFrame;
  assert.ok(Array.isArray(await api.listJobs()));
  assert.ok(host.stats.refused >= 3);
});

test('invalid payloads over Electron IPC are answered with validation errors', async () => {
  assert.equal(await rejection(api.addJob({ url: 'ftp://x', dest: '/tmp/x' })), 'E_VALIDATION');
  assert.equal(await rejection(api.getJob({ jobId: 'x'.repeat(1000) })), 'E_VALIDATION');
  assert.equal(await rejection((api.getJob as (r: unknown) => Promise<unknown>)({ jobId: 'a', extra: 1 })), 'E_VALIDATION');
  // Straight at the handler, bypassing preload: unknown channel and junk arguments.
  const handler = ipcMain.handlers.get('snapshot-manager:invoke')!;
  const event = { sender: webContents, senderFrame: frame };
  for (const args of [['nope', {}], [{}, {}], [undefined], ['addJob', 'x'], ['addJob', null]]) {
    const result = (await handler(event, ...args)) as { ok: boolean; error?: { code: string } };
    assert.equal(result.ok, false);
    assert.equal(result.error?.code, 'E_VALIDATION');
  }
});
