// `snapshot-manager serve` as a process: the URL with the token is the first line on stdout, the
// socket works with it, SIGTERM stops cleanly; argument rules (loopback by default, usage errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isLoopbackHost, parseServeArgs, runServe } from '../../electron/serve';
import { webSocketUrlFromPage } from '../../shared/ws-client';
import { connectApi, tempDir } from './helpers';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');

test('serve prints the tokened URL first, answers on it, and exits 0 on SIGTERM', async () => {
  const dirs = tempDir('serve-cli');
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--state-dir', join(dirs.path, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await Promise.race([once(lines, 'line'), new Promise((_, reject) => setTimeout(() => reject(new Error('no URL printed within 10 s')), 10_000))])) as [string];
    assert.match(first, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    const client = connectApi(webSocketUrlFromPage(first));
    await client.ready;
    assert.deepEqual(await client.api.listJobs(), []);
    assert.equal((await client.api.getInfo()).transport, 'websocket');
    client.close();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    dirs.cleanup();
  }
});

test('every serve gets its own token', async () => {
  const dirs = tempDir('serve-token');
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const child = spawn(process.execPath, [cli, 'serve', '--state-dir', join(dirs.path, `s${i}`)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    urls.push(new URL(line).searchParams.get('token')!);
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  assert.notEqual(urls[0], urls[1]);
  dirs.cleanup();
});

test('arguments: loopback by default, a non-loopback host only when given, usage errors exit 2', async () => {
  const d = parseServeArgs([]);
  assert.equal(d.host, '127.0.0.1');
  assert.equal(d.port, 0);
  assert.equal(d.worker, true);
  const explicit = parseServeArgs(['--host', '0.0.0.0', '--port=8080', '--state-dir', '/tmp/x']);
  assert.deepEqual([explicit.host, explicit.hostGiven, explicit.port, explicit.stateDir], ['0.0.0.0', true, 8080, '/tmp/x']);
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  for (const bad of [['--port', '70000'], ['--port', 'abc'], ['--host'], ['--bogus']]) {
    assert.throws(() => parseServeArgs(bad), Error, bad.join(' '));
  }
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    errors.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(await runServe(['--port', 'nope']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(errors.join(''), /--port/);
});
