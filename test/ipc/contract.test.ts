// The contract itself: path rules shared by host and renderer, the schemas' strictness, the error
// shape, the WebSocket URL derivation, and (at compile time) the Api inferred from the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isAbsolutePath,
  pathProblem,
  platformPathProblem,
  requestSchemas,
  responseSchemas,
  eventSchemas,
  DEFAULT_SETTINGS,
  settingsSchema,
  MAX_ZSTD_WINDOW,
} from '../../shared/schemas';
import { HARD_MAX_WINDOW } from '../../electron/engine/decode/zstd/frame-header';
import { EVENT_CHANNELS, INVOKE_CHANNELS, isInvokeChannel } from '../../shared/channels';
import { asSerializedError, type Api, type InvokeRequest } from '../../shared/contract';
import { webSocketUrlFromPage } from '../../shared/ws-client';

test('destination paths: absolute on POSIX and Windows, no traversal, no control characters', () => {
  for (const ok of ['/data/snapshots', '/', 'C:\\Snapshots\\node', 'd:/x', '\\\\server\\share\\dir', '/a/b.c/..d/e..']) {
    assert.equal(pathProblem(ok), null, ok);
    assert.ok(isAbsolutePath(ok), ok);
  }
  for (const bad of ['', 'data', './data', '../data', '/data/../etc', '/data/./x', 'C:relative', 'C:\\a\\..\\b', '/a\nb', '/a\u0000b', `/${'x'.repeat(5000)}`, '~/snapshots']) {
    assert.notEqual(pathProblem(bad), null, JSON.stringify(bad));
  }
});

test("paths are judged by the host's platform: Windows forms only on Windows, POSIX forms only elsewhere", () => {
  for (const win of ['C:\\Snapshots\\node', 'd:/x', '\\\\server\\share\\dir']) {
    assert.equal(platformPathProblem(win, 'win32'), null, win);
    assert.match(platformPathProblem(win, 'linux') ?? '', /Windows path/, win);
    assert.match(platformPathProblem(win, 'darwin') ?? '', /Windows path/, win);
  }
  assert.equal(platformPathProblem('/data/snapshots', 'linux'), null);
  assert.match(platformPathProblem('/data/snapshots', 'win32') ?? '', /drive letter/);
});

test('every request schema refuses unknown fields; the tables cover exactly the channels', () => {
  assert.deepEqual(Object.keys(requestSchemas).sort(), [...INVOKE_CHANNELS].sort());
  assert.deepEqual(Object.keys(responseSchemas).sort(), [...INVOKE_CHANNELS].sort());
  assert.deepEqual(Object.keys(eventSchemas).sort(), [...EVENT_CHANNELS].sort());
  for (const channel of INVOKE_CHANNELS) {
    const r = requestSchemas[channel].safeParse({ surprise: 1 });
    assert.equal(r.success, false, channel);
  }
  assert.ok(!isInvokeChannel('toString') && !isInvokeChannel('__proto__') && isInvokeChannel('listJobs'));
  assert.deepEqual(settingsSchema.parse(DEFAULT_SETTINGS), DEFAULT_SETTINGS);
});

test('errors read back as {code, message, causes, retryable} whatever was thrown', () => {
  assert.deepEqual(asSerializedError({ code: 'E_X', message: 'm', retryable: true, causes: [{ message: 'c' }] }), {
    code: 'E_X',
    message: 'm',
    retryable: true,
    causes: [{ message: 'c' }],
  });
  assert.deepEqual(asSerializedError(new Error('boom')), { code: 'E_INTERNAL', message: 'boom', retryable: false, causes: [] });
  assert.equal(asSerializedError('text').message, 'text');
});

test('the WebSocket URL follows the page: same host, /ws, the token', () => {
  assert.equal(webSocketUrlFromPage('http://127.0.0.1:4321/?token=abc'), 'ws://127.0.0.1:4321/ws?token=abc');
  assert.equal(webSocketUrlFromPage('https://box.example/?token=t#x'), 'wss://box.example/ws?token=t');
  assert.equal(webSocketUrlFromPage('http://[::1]:80/'), 'ws://[::1]/ws');
});

test('the Api type is inferred from the table (checked by the compiler)', () => {
  // Nothing runs here: the lines below fail `tsc` if the inferred Api drifts.
  const typeChecks = async (api: Api): Promise<void> => {
    const jobs = await api.listJobs();
    const state: string = jobs[0]!.state;
    void state;
    await api.addJob({ url: 'http://x/y.tar.gz', dest: '/d' });
    // @ts-expect-error url is required
    await api.addJob({ dest: '/d' });
    // @ts-expect-error index must be a number
    await api.retryChunkNow({ jobId: 'a', index: '1' });
    const history = await api.getChunkHistory({ jobId: 'a', index: 0 });
    const status: number | null = history[0]!.status;
    void status;
    api.on('chunkBatch', (b) => b.chunks.map((c) => c.state));
    // @ts-expect-error no such event
    api.on('nope', () => undefined);
    const noArgs: InvokeRequest<'getSettings'> = {};
    void noArgs;
  };
  assert.equal(typeof typeChecks, 'function');
});

test('regression: a URL with user:password@ was accepted by addJob and stored in jobs.json; the contract refuses it', () => {
  const withCredentials = requestSchemas.addJob.safeParse({ url: 'https://user:secret@example.org/s.tar.gz', dest: '/data/node' });
  assert.equal(withCredentials.success, false);
  assert.match(JSON.stringify(withCredentials.error?.issues), /user:password@/);
  assert.equal(requestSchemas.addJob.safeParse({ url: 'https://example.org/s.tar.gz?X-Amz-Signature=abc', dest: '/data/node' }).success, true);
});

test('addJob takes a zstd window limit within what the decoder addresses (the same bounds as --zstd-max-window)', () => {
  const add = (zstdMaxWindow: unknown) => requestSchemas.addJob.safeParse({ url: 'https://example.org/s.tar.zst', dest: '/data/node', zstdMaxWindow }).success;
  assert.equal(add(256 * 1024 * 1024), true);
  assert.equal(add(1024), true);
  assert.equal(add(MAX_ZSTD_WINDOW), true);
  assert.equal(MAX_ZSTD_WINDOW, HARD_MAX_WINDOW, 'the contract and the decoder agree on the largest window');
  assert.equal(add(MAX_ZSTD_WINDOW + 1), false);
  assert.equal(add(512), false);
  assert.equal(add(1.5 * 1024 * 1024), true);
  assert.equal(add(1024.5), false);
  assert.equal(add('256M'), false);
});

test('regression: more parallel connections than the window in the add form made a job that failed at once (E_USAGE); the contract refuses it on the connections field', () => {
  const add = (concurrency: number, window?: number) =>
    requestSchemas.addJob.safeParse({ url: 'https://example.org/s.tar.gz', dest: '/data/node', concurrency, ...(window !== undefined ? { window } : {}) });
  const refused = add(4, 3);
  assert.equal(refused.success, false);
  assert.deepEqual(
    refused.error?.issues.map((i) => i.path.join('.')),
    ['concurrency'],
  );
  assert.match(refused.error?.issues[0]?.message ?? '', /cannot exceed the window/);
  assert.equal(add(3, 3).success, true);
  assert.equal(add(4).success, true, 'without a window the host checks it against the settings’ one (test/ipc/job-headers.test.ts)');
});
