// Problems known before starting are said next to the field and create no job: a destination that is not
// empty, a file where a folder is wanted, a read-only file system (was reported as ENOENT by a failed job).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServe, type ServeHandle } from '../../electron/serve';
import { webSocketUrlFromPage, type WebSocketApi } from '../../shared/ws-client';
import { asSerializedError } from '../../shared/contract';
import { responseSchemas } from '../../shared/schemas';
import { fieldErrors } from '../../renderer/src/store/field-errors';
import { connectApi, tempDir } from './helpers';

let serve: ServeHandle;
let client: WebSocketApi;
let dirs: ReturnType<typeof tempDir>;

before(async () => {
  dirs = tempDir('dest-check');
  serve = await startServe({ host: '127.0.0.1', port: 0, stateDir: join(dirs.path, 'state'), worker: false });
  client = connectApi(webSocketUrlFromPage(serve.url));
  await client.ready;
});

after(async () => {
  client?.close();
  await serve?.close();
  dirs?.cleanup();
});

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return asSerializedError(err);
  }
  assert.fail('the call was expected to fail');
}

test('a non-empty destination is refused before a job exists, with the field to show it on and the control that resolves it', async () => {
  const dest = join(dirs.path, 'full');
  mkdirSync(dest);
  writeFileSync(join(dest, 'node.toml'), 'x');
  const report = responseSchemas.checkDestination.parse(await client.api.checkDestination({ path: dest }));
  assert.equal(report.problem?.code, 'E_DEST_NOT_EMPTY');
  assert.match(report.problem!.message, /not empty \(1 entry\).*Extract into a non-empty folder/);
  assert.ok(report.freeBytes !== null && report.freeBytes > 0);
  assert.equal((await client.api.checkDestination({ path: dest, force: true })).problem, null, 'with the control ticked it is fine');

  const err = await rejection(client.api.addJob({ url: 'http://127.0.0.1:9/s.tar.gz', dest }));
  assert.equal(err.code, 'E_DEST_NOT_EMPTY');
  assert.deepEqual(Object.keys(fieldErrors(err)), ['dest'], 'the form puts it next to the destination');
  assert.deepEqual(await client.api.listJobs(), [], 'no job was created');

  const file = join(dirs.path, 'a-file');
  writeFileSync(file, 'x');
  assert.equal((await client.api.checkDestination({ path: file })).problem?.code, 'E_DEST_NOT_WRITABLE');
  assert.equal((await client.api.checkDestination({ path: file, downloadOnly: true })).problem?.code, 'E_DEST_NOT_EMPTY');
  assert.equal((await client.api.checkDestination({ path: join(dirs.path, 'new', 'deeper') })).problem, null, 'a folder still to create');
});

test('a read-only file system is named as such', { skip: process.getuid?.() !== 0 ? 'mounting needs root' : false }, async () => {
  const ro = join(dirs.path, 'ro');
  mkdirSync(ro);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro], { stdio: 'ignore' });
  } catch {
    return; // no mount here: nothing to check
  }
  try {
    const report = await client.api.checkDestination({ path: join(ro, 'node') });
    assert.equal(report.problem?.code, 'E_DEST_NOT_WRITABLE');
    assert.match(report.problem!.message, /read-only file system/);
    const err = await rejection(client.api.addJob({ url: 'http://127.0.0.1:9/s.tar.gz', dest: join(ro, 'node') }));
    assert.equal(err.code, 'E_DEST_NOT_WRITABLE');
  } finally {
    execFileSync('umount', [ro], { stdio: 'ignore' });
  }
});
