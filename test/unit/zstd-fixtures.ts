// Test helpers for the zstd decoder: the real tools' output, a frame walker that tells which block
// types a file exercises, and a feed loop that asks for checkpoints and checks where they come out.
import { execFileSync } from 'node:child_process';
import { isDecoderPoint, type DecodedItem, type DecoderPoint } from '../../electron/engine/decode/resumable-decoder';
import { ZstdDecoder, type ZstdDecoderOptions } from '../../electron/engine/decode/zstd/factory';

export { compressWith, mixedBytes, randomBytes, textBytes } from './gzip-fixtures';

/** `zstd` (or pzstd) reading stdin, so the frame has no content size unless the tool adds one. */
export function zstdStdin(tool: string, args: string[], data: Buffer): Buffer {
  return execFileSync(tool, [...args, '-c'], { input: data, maxBuffer: 1 << 30 });
}

/** The reference decoder's output. */
export function zstdDecode(zst: Buffer, extra: string[] = []): Buffer {
  return execFileSync('zstd', ['-d', '-c', ...extra], { input: zst, maxBuffer: 1 << 30 });
}

export interface FrameWalk {
  frames: number;
  skippable: number;
  /** File offsets where each frame (zstd or skippable) ends. */
  ends: number[];
  /** File offsets where each block ends. */
  blockEnds: number[];
  blocks: { raw: number; rle: number; compressed: number };
}

/** Walks frames and block headers (no decoding): which structures a test file really contains. */
export function walkFrames(zst: Buffer): FrameWalk {
  const w: FrameWalk = { frames: 0, skippable: 0, ends: [], blockEnds: [], blocks: { raw: 0, rle: 0, compressed: 0 } };
  let p = 0;
  while (p < zst.length) {
    const magic = zst.readUInt32LE(p);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      w.skippable++;
      p += 8 + zst.readUInt32LE(p + 4);
      w.ends.push(p);
      continue;
    }
    if (magic !== 0xfd2fb528) throw new Error(`no frame at ${p}`);
    const fhd = zst[p + 4]!;
    const single = (fhd >> 5) & 1;
    const fcs = fhd >> 6 === 0 ? single : [0, 2, 4, 8][fhd >> 6]!;
    p += 4 + 1 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + fcs;
    for (;;) {
      const h = zst.readUIntLE(p, 3);
      const type = (h >> 1) & 3;
      const size = h >> 3;
      if (type === 0) w.blocks.raw++;
      else if (type === 1) w.blocks.rle++;
      else w.blocks.compressed++;
      p += 3 + (type === 1 ? 1 : size);
      w.blockEnds.push(p);
      if (h & 1) break;
    }
    if (fhd & 4) p += 4;
    w.frames++;
    w.ends.push(p);
  }
  return w;
}

export interface Decoded {
  output: Buffer;
  points: DecoderPoint[];
  decoder: ZstdDecoder;
}

/**
 * Feeds `zst` from `start` in pieces, asking for a checkpoint after every piece when `checkpoints` is set.
 * Every point must sit exactly at the output handed out before it; points come back JSON round-tripped.
 */
export function decodeZstd(zst: Buffer, opts: ZstdDecoderOptions & { pieceBytes?: number; checkpoints?: boolean; resume?: DecoderPoint; cuts?: number[] } = {}): Decoded {
  const decoder = new ZstdDecoder(opts, opts.resume);
  const piece = opts.pieceBytes ?? 64 * 1024;
  const outputs: Buffer[] = [];
  const points: DecoderPoint[] = [];
  let produced = opts.resume?.uncompressedOffset ?? 0;
  const take = (items: DecodedItem[]) => {
    for (const item of items) {
      if (isDecoderPoint(item)) {
        if (item.uncompressedOffset !== produced) throw new Error(`point at ${item.uncompressedOffset}, output at ${produced}`);
        points.push(JSON.parse(JSON.stringify(item)) as DecoderPoint);
      } else {
        outputs.push(item);
        produced += item.length;
      }
    }
  };
  // Pieces end at every multiple of pieceBytes and at every offset in `cuts`.
  const ends = [...new Set([...(opts.cuts ?? []), zst.length])].sort((a, b) => a - b);
  for (let at = opts.resume?.compressedOffset ?? 0; at < zst.length; ) {
    const next = Math.min(at + piece, ends.find((e) => e > at)!);
    if (opts.checkpoints) decoder.requestCheckpoint();
    take(decoder.push(zst.subarray(at, next)));
    at = next;
  }
  take(decoder.finish());
  return { output: Buffer.concat(outputs), points, decoder };
}

/** The error a decode throws (push or finish), or undefined when it succeeds. */
export function decodeError(zst: Buffer, opts: ZstdDecoderOptions & { pieceBytes?: number } = {}): (Error & { code?: string; details?: Record<string, unknown> }) | undefined {
  try {
    decodeZstd(zst, opts);
    return undefined;
  } catch (err) {
    return err as Error & { code?: string; details?: Record<string, unknown> };
  }
}

/** A skippable frame (magic 0x184D2A5n) around `payload`. */
export function skippableFrame(payload: Buffer, nibble = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a50 + nibble, 0);
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** A hand-made frame: one raw block of `data`, the given window descriptor, optionally a dictionary ID and content size. */
export function rawFrame(data: Buffer, opts: { windowDescriptor: number; dictId?: number; contentSize?: boolean }): Buffer {
  const did = opts.dictId ?? 0;
  const fhd = (opts.contentSize ? 0x40 : 0) | (did ? 3 : 0); // no checksum, window descriptor present
  const header = [0x28, 0xb5, 0x2f, 0xfd, fhd, opts.windowDescriptor];
  if (did) header.push(did & 0xff, (did >> 8) & 0xff, (did >> 16) & 0xff, (did >>> 24) & 0xff);
  if (opts.contentSize) {
    const fcs = data.length - 256;
    header.push(fcs & 0xff, fcs >> 8);
  }
  const bh = (data.length << 3) | 1;
  return Buffer.concat([Buffer.from(header), Buffer.from([bh & 0xff, (bh >> 8) & 0xff, bh >> 16]), data]);
}
