// --header: checked before any I/O, sent to the origin it was given for and to no other (not after a
// redirect to another host), kept owner-only with the job's state, and never in any output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { createDispatcher } from '../../electron/engine/transfer/http';
import { probe } from '../../electron/engine/transfer/probe';
import { fetchRange } from '../../electron/engine/transfer/range-fetch';
import { readSingleStream } from '../../electron/engine/transfer/single-stream';
import { confirmSize } from '../../electron/engine/transfer/size-confirm';
import { headerSetFor, headersFor, parseHeaderArg, rescope } from '../../electron/engine/transfer/origin-headers';
import { headersForRun, loadHeaders } from '../../electron/engine/state/saved-headers';
import { HEADERS_FILE, isJobStateFile } from '../../electron/engine/state/layout';
import { UsageError } from '../../electron/engine/errors';
import { cliPath } from './harness';

const SECRET = 'Bearer s3cr3t-t0ken-9f8e7d';
let a: FaultServer;
let b: FaultServer;
const dispatcher = createDispatcher({ connections: 4, connectTimeoutMs: 2_000, idleTimeoutMs: 2_000 });
const body = randomBytes(200_000);

before(async () => {
  a = await FaultServer.start();
  b = await FaultServer.start();
  await a.serve('/snap.bin', body);
  await b.serve('/snap.bin', body);
});
after(async () => {
  await dispatcher.destroy();
  await a.close();
  await b.close();
});

test('a header is parsed, and a bad or engine-owned one is refused without showing its value', () => {
  assert.deepEqual(parseHeaderArg(`Authorization: ${SECRET}`), ['authorization', SECRET]);
  assert.deepEqual(parseHeaderArg('X-Empty:'), ['x-empty', '']);
  const refused: Array<[string, RegExp]> = [
    [`Host: ${SECRET}`, /Host cannot be set: the host comes from the URL/],
    [`Range: ${SECRET}`, /Range cannot be set/],
    [`If-Range: ${SECRET}`, /If-Range cannot be set/],
    [`Content-Length: ${SECRET}`, /Content-Length cannot be set/],
    [`Accept-Encoding: ${SECRET}`, /Accept-Encoding cannot be set: the file must arrive as it is/],
    [`Connection: ${SECRET}`, /Connection cannot be set/],
    [`X-Token: ${SECRET}\r\nX-Injected: 1`, /line break/],
    [`X-Token: a\nb${SECRET}`, /line break/],
    [`Bad Name: ${SECRET}`, /not a valid header name/],
    [`X-Tok(en): ${SECRET}`, /not a valid header name/],
    [`${SECRET}`, /has no ':'/],
  ];
  for (const [arg, message] of refused) {
    assert.throws(
      () => parseHeaderArg(arg),
      (err: unknown) => err instanceof UsageError && message.test(err.message) && !err.message.includes('s3cr3t'),
      arg,
    );
  }
  assert.throws(() => headerSetFor('https://x.example/a', ['X-A: 1', 'x-a: 2']), /given twice/);
});

test('headers go only to their origin: another port or host, and a rescoped set, are told apart', () => {
  const set = headerSetFor('https://files.example:8443/a.tar', [`Authorization: ${SECRET}`])!;
  assert.deepEqual(headersFor(set, 'https://files.example:8443/b?x=1'), { authorization: SECRET });
  assert.deepEqual(headersFor(set, 'https://files.example/a.tar'), {});
  assert.deepEqual(headersFor(set, 'http://files.example:8443/a.tar'), {});
  assert.deepEqual(headersFor(set, 'https://cdn.example:8443/a.tar'), {});
  assert.deepEqual(headersFor(rescope(set, 'https://cdn.example/p'), 'https://cdn.example/q'), { authorization: SECRET });
});

test('probe, ranges, the single stream and the size check send the headers to their origin, and not to the host a redirect leads to', async () => {
  const headers = headerSetFor(a.url('/snap.bin'), [`Authorization: ${SECRET}`, 'X-Trace: yes']);
  const sawSecret = (s: FaultServer, from: number) => s.requests.slice(from).map((r) => r.headers.authorization === SECRET);
  const startA = a.requests.length;
  const probed = await probe(a.url('/snap.bin'), { dispatcher, headers });
  const sink = {
    committed: 0,
    async write(d: Buffer) {
      this.committed += d.length;
    },
  };
  await fetchRange({ dispatcher, url: probed.finalUrl, start: 0, end: 999, pinned: { size: probed.size!, etag: probed.etag, lastModified: probed.lastModified }, sink, headers });
  await readSingleStream({
    dispatcher,
    url: a.url('/snap.bin'),
    pinned: { ...probed, size: probed.size },
    skip: 0,
    signal: new AbortController().signal,
    onBytes: () => undefined,
    onData: async () => undefined,
    headers,
  });
  await confirmSize(dispatcher, a.url('/snap.bin'), body.length, undefined, headers);
  const onA = a.requests.slice(startA);
  assert.ok(onA.length >= 4);
  assert.deepEqual(
    sawSecret(a, startA),
    onA.map(() => true),
    'every request to the origin carries the header',
  );
  assert.ok(onA.every((r) => r.headers['x-trace'] === 'yes'));
  assert.ok(onA.some((r) => r.rangeHeader === 'bytes=0-999') && onA.some((r) => r.rangeHeader === `bytes=${body.length}-${body.length}`));

  // The origin now sends everything to another host (port): the hops to it go without the header.
  a.setPlan((r) => (r.path === '/moved.bin' ? { kind: 'redirect', location: b.url('/snap.bin') } : undefined));
  try {
    const startB = b.requests.length;
    const startA2 = a.requests.length;
    const moved = await probe(a.url('/moved.bin'), { dispatcher, headers });
    assert.equal(moved.finalUrl, b.url('/snap.bin'));
    const sink2 = {
      committed: 0,
      async write(d: Buffer) {
        this.committed += d.length;
      },
    };
    await fetchRange({
      dispatcher,
      url: a.url('/moved.bin'),
      start: 0,
      end: 99,
      pinned: { size: body.length, etag: moved.etag, lastModified: moved.lastModified },
      sink: sink2,
      headers,
    });
    await readSingleStream({
      dispatcher,
      url: a.url('/moved.bin'),
      pinned: { ...moved, size: moved.size },
      skip: 0,
      signal: new AbortController().signal,
      onBytes: () => undefined,
      onData: async () => undefined,
      headers,
    });
    assert.ok(a.requests.slice(startA2).length >= 3);
    assert.ok(sawSecret(a, startA2).every(Boolean), 'the origin itself still gets them');
    assert.ok(b.requests.slice(startB).length >= 3);
    assert.ok(
      b.requests.slice(startB).every((r) => r.headers.authorization === undefined && r.headers['x-trace'] === undefined),
      'the other host never sees them',
    );
  } finally {
    a.setPlan(() => undefined);
  }
});

test('saved headers: owner-only, reused by a run that gives none, replaced by one that gives others, removed with the job state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'headers-'));
  try {
    const stateDir = join(dir, 'state');
    const given = headerSetFor('https://x.example/a', [`Authorization: ${SECRET}`]);
    assert.deepEqual(await headersForRun(stateDir, given), { headers: given, reused: false });
    assert.equal(statSync(join(stateDir, HEADERS_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    assert.deepEqual(await headersForRun(stateDir, null), { headers: given, reused: true });
    const other = headerSetFor('https://x.example/a', ['Cookie: c=1']);
    await headersForRun(stateDir, other);
    assert.deepEqual(await loadHeaders(stateDir), other);
    assert.equal(isJobStateFile(HEADERS_FILE), true, 'removed with the rest of the state when the job completes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('get --header: the origin gets it on every request, a resumed run without --header sends it again, and no NDJSON line or other state file holds it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'headers-cli-'));
  try {
    await a.serve('/auth.bin', body);
    a.setPlan((r) => (r.path === '/auth.bin' && r.headers.authorization !== SECRET ? { kind: 'status', status: 401 } : undefined));
    const stateDir = join(dir, 'st');
    const common = ['get', a.url('/auth.bin'), '--output', join(dir, 'out.bin'), '--state-dir', stateDir, '--chunk-size', '64K', '--keep-state', '--no-sidecar', '--json'];
    const first = await runCli([...common, '--header', `Authorization: ${SECRET}`, '--restart']);
    assert.equal(first.code, 0, first.stdout);
    const again = await runCli([...common, '--restart']);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /HEADERS_REUSED.*authorization: …/);
    for (const out of [first, again]) assert.ok(!(out.stdout + out.stderr).includes('s3cr3t'), 'never printed');
    const onAuth = a.requestsFor('/auth.bin');
    assert.ok(onAuth.length >= 8 && onAuth.every((r) => r.headers.authorization === SECRET));
    for (const name of readdirSync(stateDir)) {
      if (name === HEADERS_FILE) continue;
      assert.ok(!readFileSync(join(stateDir, name)).includes('s3cr3t'), `${name} holds no header value`);
    }
    assert.equal(statSync(join(stateDir, HEADERS_FILE)).mode & 0o777, 0o600);
  } finally {
    a.setPlan(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
