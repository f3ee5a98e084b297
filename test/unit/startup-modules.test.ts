// What a job loads before its first request is paid on every run (0.1-0.2 s of a 257 MiB download here):
// the CLI's start loads neither undici's whole index nor the extraction, decoder, hashing or parts code, and
// the undici files it loads instead are the index's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Agent, errors as undiciErrors } from 'undici';
import { createDispatcher, mapTransportError } from '../../electron/engine/transfer/http';
import { isCompressed, resumableDecoder } from '../../electron/engine/decode/registry';

const distElectron = join(__dirname, '..', '..', 'electron');

test('a CLI start loads no extraction, decoder, hashing, parts or undici-index code', () => {
  const script = `
    require(${JSON.stringify(join(distElectron, 'cli.js'))});
    require(${JSON.stringify(join(distElectron, 'cli', 'run-get.js'))});
    require(${JSON.stringify(join(distElectron, 'engine', 'job', 'job.js'))});
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
  const unwanted = [
    /engine\/extract\/extractor\.js$/,
    /engine\/extract\/tar-framer\.js$/,
    /engine\/decode\/zstd\/zstd-decoder\.js$/,
    /engine\/decode\/lz4\/lz4-decoder\.js$/,
    /engine\/decode\/gzip\/gzip-decoder\.js$/,
    /engine\/parts\/parts-job\.js$/,
    /cli\/run-status\.js$/,
    /node_modules\/hash-wasm\//,
    /node_modules\/pako\//,
    /node_modules\/undici\/index\.js$/,
    /node_modules\/undici\/lib\/web\//,
  ];
  for (const pattern of unwanted) {
    const hit = loaded.find((file) => pattern.test(file));
    assert.equal(hit, undefined, `loaded at start: ${hit}`);
  }
  assert.ok(
    loaded.some((file) => /node_modules\/undici\/lib\/dispatcher\/agent\.js$/.test(file)),
    'the engine still loads undici',
  );
});

test("the undici files the engine loads are the index's own Agent, errors and request", async () => {
  const dispatcher = createDispatcher({ connections: 1, connectTimeoutMs: 1000, idleTimeoutMs: 1000 });
  try {
    assert.ok(dispatcher instanceof Agent);
    assert.equal(dispatcher.request, Agent.prototype.request);
    const timeout = new undiciErrors.BodyTimeoutError();
    assert.equal(mapTransportError(timeout, 'http://127.0.0.1/x').code, 'E_IDLE_TIMEOUT');
  } finally {
    await dispatcher.close();
  }
});

test('every archive format still finds its decoder when it is loaded on demand', () => {
  for (const format of ['tar', 'gzip', 'lz4', 'zstd'] as const) {
    const factory = resumableDecoder(format);
    assert.ok(factory, format);
    assert.equal(factory.format, format);
    assert.equal(isCompressed(format), format !== 'tar');
  }
  assert.notEqual(resumableDecoder('zstd', { zstdMaxWindowBytes: 1 << 20 }), resumableDecoder('zstd'));
});
