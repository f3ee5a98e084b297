// The free-space check's output size hint knew only gzip's ISIZE: an lz4 archive whose frame declares its
// content size (lz4 --content-size) went unchecked. Now the descriptor's content size is used, also behind
// skippable frames, and a size that covers only a first frame of several is not trusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { outputSizeHint } from '../../electron/engine/space/space-check';
import { incompressibleBytes, prng, textBytes } from '../helpers/archives';
import { FaultServer } from '../../harness/fault-server';
import { lz4Compress, skippableFrame } from '../helpers/lz4';

test("the free-space hint uses an lz4 frame's declared content size (the gzip ISIZE hint stays)", async () => {
  const server = await FaultServer.start();
  const agent = new Agent();
  try {
    const data = Buffer.concat([textBytes(prng(1), 400_000), incompressibleBytes(1, 'h', 100_000)]);
    const hint = async (body: Buffer) => outputSizeHint(agent, await server.serve(`/f${Math.random()}`, body), body.length, null);
    assert.deepEqual(await hint(lz4Compress(data, ['--content-size'])), { bytes: data.length, what: 'lz4 content size' });
    assert.deepEqual(await hint(Buffer.concat([skippableFrame(Buffer.alloc(20)), lz4Compress(data, ['--content-size', '-BD'])])), { bytes: data.length, what: 'lz4 content size' });
    assert.equal(await hint(lz4Compress(data, [])), null, 'no content size declared');
    const twoFrames = Buffer.concat([lz4Compress(data.subarray(0, 1000), ['--content-size']), lz4Compress(data.subarray(1000), [])]);
    assert.equal(await hint(twoFrames), null, 'a first frame of 1000 bytes says nothing of the whole');
    assert.deepEqual(await hint(gzipSync(data)), { bytes: data.length, what: 'gzip size hint' });
  } finally {
    await agent.close();
    await server.close();
  }
});

test('regression: a .tar.zst whose frame declares its content size got no free-space check; zstd from a file (size known) gives it, from a pipe (none) does not', async () => {
  const server = await FaultServer.start();
  const agent = new Agent();
  const dir = mkdtempSync(join(tmpdir(), 'zstd-hint-'));
  try {
    const data = Buffer.concat([textBytes(prng(2), 400_000), incompressibleBytes(2, 'z', 100_000)]);
    const file = join(dir, 'data.tar');
    writeFileSync(file, data);
    const hint = async (body: Buffer) => outputSizeHint(agent, await server.serve(`/z${Math.random()}`, body), body.length, null);
    const fromFile = execFileSync('zstd', ['-q', '-3', '-c', file], { maxBuffer: 1 << 26 });
    assert.deepEqual(await hint(fromFile), { bytes: data.length, what: 'zstd frame content size' });
    const fromPipe = execFileSync('zstd', ['-q', '-3', '-c'], { input: data, maxBuffer: 1 << 26 });
    assert.equal(await hint(fromPipe), null, 'zstd reading a pipe declares no size');
    // pzstd: a skippable frame, then frames of a part each: the first frame's size says nothing of the whole.
    const pz = execFileSync('pzstd', ['-q', '-p', '2', '-3', '-c', file], { maxBuffer: 1 << 26 });
    const got = await hint(pz);
    assert.ok(got === null || got.bytes === data.length, `pzstd: ${JSON.stringify(got)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await agent.close();
    await server.close();
  }
});
