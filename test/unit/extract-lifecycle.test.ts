// The Extractor as the job drives it: progress counters, backpressure, and a stop in the middle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { Extractor } from '../../electron/engine/extract/extractor';
import { sandbox } from '../hostile/harness';
import { tarArchive } from '../hostile/tar-builder';

const openFds = () => readdirSync('/proc/self/fd').length;

test('counters: bytesIn, bytesWritten and detectedFormat follow the stream', async () => {
  const box = await sandbox();
  try {
    const data = Buffer.alloc(3 * 1024 * 1024, 9);
    const gz = zlib.gzipSync(tarArchive([{ name: 'big', data }]));
    const ex = new Extractor({ dest: box.dest, format: 'auto' });
    assert.equal(ex.detectedFormat, null);
    ex.end(gz);
    const result = await ex.done();
    assert.equal(ex.detectedFormat, 'gzip');
    assert.equal(ex.bytesIn, gz.length);
    assert.equal(ex.bytesWritten, data.length);
    assert.deepEqual({ entries: result.entries, bytesWritten: result.bytesWritten }, { entries: 1, bytesWritten: data.length });
  } finally {
    await box.cleanup();
  }
});

test('backpressure: write() asks the producer to wait while files are being written', async () => {
  const box = await sandbox();
  try {
    const tar = tarArchive([{ name: 'big', data: Buffer.alloc(32 * 1024 * 1024, 1) }]);
    const ex = new Extractor({ dest: box.dest, format: 'tar' });
    let refused = 0;
    for (let i = 0; i < tar.length; i += 256 * 1024) {
      if (!ex.write(tar.subarray(i, i + 256 * 1024))) {
        refused++;
        await new Promise((r) => ex.once('drain', r));
      }
    }
    ex.end();
    await ex.done();
    assert.ok(refused > 0, 'the extractor never pushed back');
  } finally {
    await box.cleanup();
  }
});

test('destroy() in the middle of a member: done() rejects with E_ABORTED and no descriptor is left open', async () => {
  const box = await sandbox();
  try {
    const before = openFds();
    const tar = tarArchive([
      { name: 'a', data: 'x' },
      { name: 'partial', data: Buffer.alloc(4 * 1024 * 1024, 2) },
    ]);
    const ex = new Extractor({ dest: box.dest, format: 'auto' });
    ex.write(tar.subarray(0, 2 * 1024 * 1024));
    while (ex.bytesWritten < 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
    ex.destroy();
    await assert.rejects(ex.done(), (e: { code: string }) => e.code === 'E_ABORTED');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(openFds(), before);
  } finally {
    await box.cleanup();
  }
});
