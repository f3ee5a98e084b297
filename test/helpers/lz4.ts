// lz4 archives made by the real `lz4` tool in the variants the decoder must read, skippable frames, and a
// decoder driver that feeds a buffer in uneven slices and collects output and points.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDecoderPoint, type DecoderPoint, type ResumableDecoder } from '../../electron/engine/decode/resumable-decoder';
import { prng } from './archives';

/** Compresses from a file, not a pipe: only then can `--content-size` write the size. */
export function lz4Compress(data: Buffer, args: string[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'sm-lz4-'));
  try {
    const file = join(dir, 'in');
    writeFileSync(file, data);
    return execFileSync('lz4', ['-q', '-c', ...args, file], { maxBuffer: 1024 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function lz4Decompress(data: Buffer): Buffer {
  return execFileSync('lz4', ['-q', '-d', '-c'], { input: data, maxBuffer: 1024 * 1024 * 1024 });
}

/** A skippable frame (magic 0x184D2A5n) carrying `payload`. */
export function skippableFrame(payload: Buffer, nibble = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50 + nibble, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

export interface Lz4Variant {
  name: string;
  make(tar: Buffer): Buffer;
}

/** Cuts `data` in two at an offset that is not a multiple of 512 (a tar block) and compresses each half as its own frame. */
function twoFrames(data: Buffer, args: string[]): Buffer {
  const cut = Math.floor(data.length / 2) + 333;
  return Buffer.concat([lz4Compress(data.subarray(0, cut), args), lz4Compress(data.subarray(cut), args)]);
}

export const LZ4_VARIANTS: Lz4Variant[] = [
  { name: 'default (independent blocks, content checksum)', make: (t) => lz4Compress(t, []) },
  { name: '-BD (linked blocks)', make: (t) => lz4Compress(t, ['-BD']) },
  { name: '-9 -B4 --content-size', make: (t) => lz4Compress(t, ['-9', '-B4', '--content-size']) },
  { name: '--no-frame-crc', make: (t) => lz4Compress(t, ['--no-frame-crc']) },
  { name: '-l (legacy frame)', make: (t) => lz4Compress(t, ['-l']) },
  { name: '-B4 (64 KiB blocks)', make: (t) => lz4Compress(t, ['-B4']) },
  { name: '-B4 -BD -BX (linked, block checksums)', make: (t) => lz4Compress(t, ['-B4', '-BD', '-BX']) },
  { name: 'two frames back to back', make: (t) => twoFrames(t, ['-B4', '-BD']) },
  {
    name: 'skippable frames in front and between frames',
    make: (t) => {
      const [a, b] = [lz4Compress(t.subarray(0, 70_001), ['-B5']), lz4Compress(t.subarray(70_001), ['-B4', '-BD', '--content-size'])];
      return Buffer.concat([skippableFrame(Buffer.from('pzstd-like header')), a, skippableFrame(Buffer.alloc(3000, 7), 0xf), skippableFrame(Buffer.alloc(0), 3), b]);
    },
  },
];

export interface Decoded {
  output: Buffer;
  points: DecoderPoint[];
}

/**
 * Feeds `input` in slices of 1..maxSlice bytes, asking for a point before each slice when `everySlice`,
 * then finishes. Points come back with the output offsets they describe checked against the output so far
 * (`startOutput`: the stream's output before a resumed decoder's first byte).
 */
export function drive(decoder: ResumableDecoder, input: Buffer, seed: number, maxSlice = 70_000, askEvery = true, startOutput = 0): Decoded {
  const rand = prng(seed);
  const out: Buffer[] = [];
  const points: DecoderPoint[] = [];
  let produced = startOutput;
  const take = (items: ReturnType<ResumableDecoder['push']>) => {
    for (const item of items) {
      if (isDecoderPoint(item)) {
        if (item.uncompressedOffset !== produced) throw new Error(`point at output ${item.uncompressedOffset}, but ${produced} bytes came before it`);
        points.push(JSON.parse(JSON.stringify(item)) as DecoderPoint);
      } else {
        out.push(Buffer.from(item));
        produced += item.length;
      }
    }
  };
  for (let at = 0; at < input.length; ) {
    const n = Math.min(input.length - at, 1 + Math.floor(rand() * maxSlice));
    if (askEvery) decoder.requestCheckpoint();
    take(decoder.push(input.subarray(at, at + n)));
    at += n;
  }
  take(decoder.finish());
  return { output: Buffer.concat(out), points };
}
