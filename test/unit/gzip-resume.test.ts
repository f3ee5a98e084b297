// Resuming from checkpoints: byte-identical output from every checkpoint, every bit offset, both engines,
// with the member's CRC-32 and ISIZE still verified at its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import * as pako from 'pako';
import { CheckpointingGunzip, type GzipCheckpoint } from '../../electron/engine/decode/gzip/checkpointing-gunzip';
import { ArchiveError } from '../../electron/engine/errors';
import { compressWith, decodeAll, mixedBytes, resumeFrom, textBytes } from './gzip-fixtures';

const engines = ['native', 'portable'] as const;

test('resume from every checkpoint of a 20 MB gzip -6 file gives the rest byte-identically', () => {
  const data = Buffer.concat([mixedBytes(14_000_000, 21), textBytes(6_000_000, 22)]);
  const gz = compressWith('gzip', ['-6', '-c'], data);
  const { output, checkpoints } = decodeAll(gz, { engine: 'native', every: 1 << 20, pieceBytes: 128 * 1024 });
  assert.ok(output.equals(data));
  assert.ok(checkpoints.length >= 15, `${checkpoints.length} checkpoints`);
  for (const checkpoint of checkpoints) {
    const rest = resumeFrom(gz, checkpoint, { engine: 'native', pieceBytes: 1_000_003 });
    assert.ok(rest.output.equals(data.subarray(checkpoint.uncompressedOffset)), `from ${JSON.stringify({ ...checkpoint, dictionary: undefined })}`);
    assert.equal(rest.decoder.stats.membersCompleted, 1, 'trailer verified');
  }
});

test('checkpoints land on all eight bit offsets and each resumes correctly, on both engines', () => {
  // GNU gzip's blocks are large (~250 KB of text each); zlib with a small memLevel makes many more.
  const data = mixedBytes(3_000_000, 31);
  const gz = zlib.gzipSync(data, { level: 9, memLevel: 4 });
  for (const engine of engines) {
    const { checkpoints } = decodeAll(gz, { engine, every: 16 * 1024, pieceBytes: 8 * 1024 });
    const firstByOffset = new Map<number, GzipCheckpoint>();
    for (const c of checkpoints) if (!firstByOffset.has(c.bitOffset)) firstByOffset.set(c.bitOffset, c);
    assert.deepEqual([...firstByOffset.keys()].sort(), [0, 1, 2, 3, 4, 5, 6, 7], engine);
    for (const checkpoint of firstByOffset.values()) {
      for (const resumeEngine of engines) {
        const rest = resumeFrom(gz, checkpoint, { engine: resumeEngine, pieceBytes: 65_536 });
        assert.ok(rest.output.equals(data.subarray(checkpoint.uncompressedOffset)), `${engine} -> ${resumeEngine}, bit ${checkpoint.bitOffset}`);
      }
    }
  }
});

/** Every block boundary of a raw deflate stream, with its exact bit position, from pako's inflater. */
function exactBoundaries(raw: Buffer, rawStart: number): Map<number, string> {
  const strm = new pako.ZStream();
  pako.zlibInflateInit2(strm, -15);
  strm.input = raw;
  strm.next_in = 0;
  strm.avail_in = raw.length;
  const out = new Uint8Array(1 << 20);
  const boundaries = new Map<number, string>();
  for (;;) {
    strm.output = out;
    strm.next_out = 0;
    strm.avail_out = out.length;
    const status = pako.zlibInflate(strm, pako.Z_BLOCK);
    if (status === pako.Z_STREAM_END) break;
    assert.ok(status === pako.Z_OK || status === pako.Z_BUF_ERROR);
    if (strm.data_type & 128) {
      const unused = strm.data_type & 7;
      const bitPosition = (rawStart + strm.next_in) * 8 - unused;
      boundaries.set(strm.total_out, `${Math.floor(bitPosition / 8)}:${bitPosition % 8}`);
    }
  }
  return boundaries;
}

test('the bit positions found for the native inflater are the exact ones', () => {
  // Text only: after a stored block several positions decode alike (any of them resumes correctly),
  // so exact equality is checked where the position is unique.
  const data = textBytes(3_000_000, 41);
  const gnu = compressWith('gzip', ['-6', '-c', '-n'], data); // no name: the deflate data starts at byte 10
  for (const [gz, minimum] of [
    [gnu, 4],
    [zlib.gzipSync(data, { memLevel: 3 }), 100],
  ] as const) {
    const exact = exactBoundaries(gz.subarray(10, gz.length - 8), 10);
    const { checkpoints } = decodeAll(gz, { engine: 'native', every: 1, pieceBytes: 2048 });
    assert.ok(checkpoints.length >= minimum, `${checkpoints.length} checkpoints`);
    for (const c of checkpoints) assert.equal(`${c.compressedOffset}:${c.bitOffset}`, exact.get(c.uncompressedOffset), `at output ${c.uncompressedOffset}`);
  }
});

test('a checkpoint taken by a resumed decoder resumes too; member starts and later members work', () => {
  const a = mixedBytes(1_200_000, 51);
  const b = textBytes(900_000, 52);
  const gz = Buffer.concat([compressWith('gzip', ['-6', '-c'], a), compressWith('gzip', ['-1', '-c'], b)]);
  const data = Buffer.concat([a, b]);
  for (const engine of engines) {
    const { checkpoints } = decodeAll(gz, { engine, every: 300_000, pieceBytes: 40_000 });
    const inSecond = checkpoints.filter((c) => c.memberIndex === 1);
    assert.ok(inSecond.length >= 2, `${engine}: checkpoints in the second member`);
    const first = checkpoints[0]!;
    const resumed = resumeFrom(gz, first, { engine, every: 500_000, pieceBytes: 30_000 });
    assert.ok(resumed.output.equals(data.subarray(first.uncompressedOffset)));
    assert.ok(resumed.checkpoints.length >= 2);
    for (const later of resumed.checkpoints) {
      const rest = resumeFrom(gz, later, { engine });
      assert.ok(rest.output.equals(data.subarray(later.uncompressedOffset)), `${engine}: chained from ${later.uncompressedOffset}`);
    }
    const memberStart: GzipCheckpoint = {
      ...first,
      memberIndex: 1,
      memberStart: gz.length - inSecond[0]!.memberStart,
      compressedOffset: 0,
      bitOffset: 0,
      dictionary: '',
      crc: 0,
      memberSize: 0,
    };
    memberStart.memberStart = inSecond[0]!.memberStart;
    memberStart.compressedOffset = memberStart.memberStart;
    memberStart.uncompressedOffset = a.length;
    assert.ok(resumeFrom(gz, memberStart, { engine }).output.equals(b), `${engine}: from the second member's start`);
  }
});

test('a resumed decoder still verifies the member trailer (CRC-32, then ISIZE)', () => {
  const data = textBytes(2_000_000, 61);
  const gz = compressWith('gzip', ['-6', '-c'], data);
  const checkpoint = decodeAll(gz, { every: 500_000 }).checkpoints[0]!;
  const codeAndOffset = (c: GzipCheckpoint) => {
    try {
      resumeFrom(gz, c);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof ArchiveError);
      return `${err.code}@${String(err.details.offset)}: ${err.message}`;
    }
  };
  assert.equal(codeAndOffset(checkpoint), 'ok');
  assert.match(codeAndOffset({ ...checkpoint, crc: (checkpoint.crc ^ 1) >>> 0 }), new RegExp(`^E_ARCHIVE_CORRUPT@${gz.length - 8}: CRC-32`));
  assert.match(
    codeAndOffset({ ...checkpoint, memberSize: checkpoint.memberSize + 1, uncompressedOffset: checkpoint.uncompressedOffset + 1 }),
    new RegExp(`^E_ARCHIVE_CORRUPT@${gz.length - 4}: Size`),
  );
});

test('an inconsistent checkpoint is refused up front', () => {
  const base: GzipCheckpoint = {
    version: 1,
    memberIndex: 0,
    memberStart: 0,
    compressedOffset: 5000,
    bitOffset: 3,
    uncompressedOffset: 40_000,
    dictionary: Buffer.alloc(32_768).toString('base64'),
    crc: 1,
    memberSize: 40_000,
  };
  assert.doesNotThrow(() => new CheckpointingGunzip({ resumeFrom: base }).close());
  for (const bad of [{ bitOffset: 8 }, { version: 2 }, { dictionary: 'AAAA' }, { memberSize: 50_000 }, { compressedOffset: -1 }, { crc: 2 ** 32 }]) {
    assert.throws(
      () => new CheckpointingGunzip({ resumeFrom: { ...base, ...bad } as GzipCheckpoint }),
      (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_CORRUPT',
      JSON.stringify(bad),
    );
  }
});

test('zlib agrees with the fixtures (sanity)', () => {
  const data = textBytes(10_000, 1);
  assert.ok(zlib.gunzipSync(compressWith('gzip', ['-c'], data)).equals(data));
});

test('resume works where several bit positions decode alike: stored blocks, pigz alignment blocks', () => {
  const data = mixedBytes(4_000_000, 81);
  const inputs: Array<[string, Buffer]> = [
    ['zlib, stored blocks in a mix', zlib.gzipSync(data, { level: 6, memLevel: 5 })],
    ['pigz -6', compressWith('pigz', ['-6', '-c', '-b', '64'], data)],
    ['pigz -1 -i', compressWith('pigz', ['-1', '-i', '-c', '-b', '32'], data)],
  ];
  let extensions = 0;
  for (const [label, gz] of inputs) {
    for (const engine of engines) {
      const { checkpoints, decoder } = decodeAll(gz, { engine, every: 50_000, pieceBytes: 16 * 1024 });
      extensions += decoder.stats.bitSearchExtensions;
      assert.ok(checkpoints.length >= 20, `${label} ${engine}: ${checkpoints.length}`);
      for (const checkpoint of checkpoints) {
        const rest = resumeFrom(gz, checkpoint, { engine, pieceBytes: 512 * 1024 });
        assert.ok(rest.output.equals(data.subarray(checkpoint.uncompressedOffset)), `${label} ${engine} from ${checkpoint.compressedOffset}:${checkpoint.bitOffset}`);
      }
    }
  }
  assert.ok(extensions > 0, 'the ambiguous case was exercised');
});
