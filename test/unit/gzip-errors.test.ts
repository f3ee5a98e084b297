// Broken input: each failure has its code and the compressed offset where it was found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { CheckpointingGunzip, isCheckpoint } from '../../electron/engine/decode/gzip/checkpointing-gunzip';
import { ArchiveError } from '../../electron/engine/errors';
import { textBytes } from './gzip-fixtures';

const engines = ['native', 'portable'] as const;
const data = textBytes(300_000, 71);
const gz = zlib.gzipSync(data, { level: 6 });

interface Outcome {
  output: Buffer;
  error?: { code: string; offset: unknown; outputComplete?: unknown };
}

/** Decodes `bytes` in pieces; collects the output returned before any error. */
function run(bytes: Buffer, engine: (typeof engines)[number], pieceBytes = 4096): Outcome {
  const decoder = new CheckpointingGunzip({ engine });
  const outputs: Buffer[] = [];
  const keep = (chunks: ReturnType<CheckpointingGunzip['push']>) => {
    for (const c of chunks) if (!isCheckpoint(c)) outputs.push(c);
  };
  try {
    for (let at = 0; at < bytes.length; at += pieceBytes) keep(decoder.push(bytes.subarray(at, at + pieceBytes)));
    keep(decoder.finish());
    return { output: Buffer.concat(outputs) };
  } catch (err) {
    assert.ok(err instanceof ArchiveError, String(err));
    const { offset, outputComplete } = err.details;
    return { output: Buffer.concat(outputs), error: { code: err.code, offset, ...(outputComplete !== undefined ? { outputComplete } : {}) } };
  }
}

test('a wrong CRC-32 or ISIZE in the trailer is corrupt, at the trailer field', () => {
  for (const engine of engines) {
    const badCrc = Buffer.from(gz);
    badCrc[gz.length - 8]! ^= 0x40;
    assert.deepEqual(run(badCrc, engine).error, { code: 'E_ARCHIVE_CORRUPT', offset: gz.length - 8 }, engine);
    const badSize = Buffer.from(gz);
    badSize[gz.length - 1]! ^= 1;
    assert.deepEqual(run(badSize, engine).error, { code: 'E_ARCHIVE_CORRUPT', offset: gz.length - 4 }, engine);
  }
});

test('input cut anywhere before the end of the trailer is truncated, at the end of the input', () => {
  for (const engine of engines) {
    for (const length of [0, 1, 5, 10, 11, 2000, Math.floor(gz.length / 2), gz.length - 9, gz.length - 8, gz.length - 3, gz.length - 1]) {
      assert.deepEqual(run(gz.subarray(0, length), engine).error, { code: 'E_ARCHIVE_TRUNCATED', offset: length }, `${engine}, ${length} bytes`);
    }
    // A second member cut inside its header, too.
    const two = Buffer.concat([gz, gz.subarray(0, 6)]);
    assert.deepEqual(run(two, engine).error, { code: 'E_ARCHIVE_TRUNCATED', offset: two.length }, engine);
  }
});

test('trailing zeros are ignored like GNU gzip does; other trailing bytes are an error after complete output', () => {
  for (const engine of engines) {
    const decoder = new CheckpointingGunzip({ engine });
    const zeros = Buffer.concat([gz, Buffer.alloc(10_000)]);
    let size = 0;
    for (let at = 0; at < zeros.length; at += 3000) for (const c of decoder.push(zeros.subarray(at, at + 3000))) if (!isCheckpoint(c)) size += c.length;
    decoder.finish();
    assert.equal(size, data.length);
    assert.equal(decoder.stats.trailingZeroBytes, 10_000);

    // GNU gzip 1.12 says "decompression OK, trailing garbage ignored" and exits 2: the output is
    // complete, but a snapshot with unexplained bytes after it is not what the publisher made.
    for (const tail of [Buffer.from('garbage'), Buffer.concat([Buffer.alloc(100), Buffer.from([7])]), Buffer.from([0x1f, 0x8c, 1, 2])]) {
      const outcome = run(Buffer.concat([gz, tail]), engine, 100_000);
      const garbageAt = gz.length + tail.findIndex((b) => b !== 0);
      assert.ok(outcome.output.equals(data), `${engine}: the output came out before the error`);
      assert.deepEqual(outcome.error, { code: 'E_TRAILING_GARBAGE', offset: garbageAt, outputComplete: true }, `${engine} ${tail.toString('hex')}`);
    }
  }
});

test('input that is not gzip is refused at once', () => {
  for (const engine of engines) {
    for (const bytes of [Buffer.from('ustar  \0 not gzip'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]), Buffer.from([0x1f, 0x9d, 0x90])]) {
      const decoder = new CheckpointingGunzip({ engine });
      assert.throws(
        () => decoder.push(bytes),
        (err: unknown) => err instanceof ArchiveError && err.code === 'E_NOT_AN_ARCHIVE' && typeof err.details.offset === 'number',
      );
      assert.throws(() => decoder.finish(), ArchiveError, 'a failed decoder keeps failing');
    }
  }
});

test('corrupt deflate data is corrupt: found in the inflate run holding the damage, or at the trailer by the CRC-32', () => {
  for (const engine of engines) {
    const broken = Buffer.from(gz);
    const damageAt = Math.floor(gz.length * 0.6);
    for (let i = damageAt; i < damageAt + 64; i++) broken[i] = (broken[i]! * 31 + 7) & 0xff;
    const outcome = run(broken, engine);
    assert.equal(outcome.error?.code, 'E_ARCHIVE_CORRUPT', engine);
    const offset = outcome.error.offset as number;
    assert.ok((offset <= damageAt + 64 && offset > damageAt - 4096) || offset === gz.length - 8, `${engine}: ${offset}`);
    assert.ok(outcome.output.length < data.length, 'not all output came out');
  }
});
