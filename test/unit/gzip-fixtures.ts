// Test data for the gzip decoder tests: deterministic data mixes, compressed by the real tools.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointingGunzip, isCheckpoint, type CheckpointingGunzipOptions, type GzipCheckpoint } from '../../electron/engine/decode/gzip/checkpointing-gunzip';

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const WORDS = 'block chain snapshot ledger state height peer epoch validator account balance nonce hash root trie node index'.split(' ');

/** Text that compresses like logs or JSON: words, numbers, newlines. */
export function textBytes(length: number, seed: number): Buffer {
  const rnd = randomBytes(length, seed);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const r = rnd[i % rnd.length]!;
    const piece = r < 40 ? `${(r * 7919 + i) % 100000}` : r < 60 ? '\n' : r < 64 ? '{"k":' : WORDS[r % WORDS.length]!;
    parts.push(piece, ' ');
    size += piece.length + 1;
  }
  return Buffer.from(parts.join('')).subarray(0, length);
}

/** A tar-like mix: text, incompressible runs (stored blocks), zero padding, repeats. */
export function mixedBytes(length: number, seed: number): Buffer {
  const pieces: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const kind = (seed + i) % 5;
    const n = 20_000 + ((seed * 31 + i * 7919) % 300_000);
    const piece =
      kind === 0 ? randomBytes(n, seed + i) : kind === 1 ? Buffer.alloc(n % 20_000) : kind === 2 ? textBytes(n, seed + i) : kind === 3 ? Buffer.alloc(n, 'ab') : textBytes(n, i);
    pieces.push(piece);
    size += piece.length;
  }
  return Buffer.concat(pieces).subarray(0, length);
}

/** Runs a compressor CLI on `data` through a temp file; a missing tool fails the test (npm test installs it). */
export function compressWith(tool: string, args: string[], data: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'gzip-fixture-'));
  try {
    const input = join(dir, 'data');
    writeFileSync(input, data);
    return execFileSync(tool, [...args, input], { maxBuffer: 1 << 30 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DecodeResult {
  output: Buffer;
  /** How many times a checkpoint was asked for. */
  requests: number;
  checkpoints: GzipCheckpoint[];
  decoder: CheckpointingGunzip;
}

/**
 * Feeds `gz` from `start` in pieces of `pieceBytes`, asking for a checkpoint whenever `every` more
 * output bytes went by. Checks that each checkpoint sits exactly at the output produced before it.
 */
export function decodeAll(
  gz: Buffer,
  options: CheckpointingGunzipOptions & { pieceBytes?: number; every?: number; start?: number; firstOutputOffset?: number } = {},
): DecodeResult {
  const decoder = new CheckpointingGunzip(options);
  const piece = options.pieceBytes ?? 256 * 1024;
  const outputs: Buffer[] = [];
  const checkpoints: GzipCheckpoint[] = [];
  let produced = options.firstOutputOffset ?? 0;
  let nextRequest = options.every === undefined ? Infinity : produced + options.every;
  let requests = 0;
  let outstanding = false;
  const take = (chunks: ReturnType<CheckpointingGunzip['push']>) => {
    for (const chunk of chunks) {
      if (isCheckpoint(chunk)) {
        if (chunk.uncompressedOffset !== produced) throw new Error(`checkpoint at ${chunk.uncompressedOffset}, output at ${produced}`);
        checkpoints.push(JSON.parse(JSON.stringify(chunk)) as GzipCheckpoint);
        outstanding = false;
      } else {
        outputs.push(chunk);
        produced += chunk.length;
      }
    }
  };
  for (let at = options.start ?? 0; at < gz.length; at += piece) {
    take(decoder.push(gz.subarray(at, Math.min(gz.length, at + piece))));
    if (produced >= nextRequest && !outstanding) {
      decoder.requestCheckpoint();
      requests++;
      outstanding = true;
      nextRequest = produced + options.every!;
    }
  }
  take(decoder.finish());
  return { output: Buffer.concat(outputs), checkpoints, decoder, requests };
}

/** Resumes from `checkpoint`, feeding the file from the checkpoint's byte on. */
export function resumeFrom(gz: Buffer, checkpoint: GzipCheckpoint, options: CheckpointingGunzipOptions & { pieceBytes?: number; every?: number } = {}): DecodeResult {
  return decodeAll(gz, { ...options, resumeFrom: checkpoint, start: checkpoint.compressedOffset, firstOutputOffset: checkpoint.uncompressedOffset });
}

/** A gzip member with a hand-made header (flags and fields as given) around raw deflate data. */
export function gzipMember(
  data: Buffer,
  header: { name?: string; comment?: string; extra?: Buffer; headerCrc?: boolean; level?: number } = {},
  deflate: (data: Buffer) => Buffer,
  crc32: (data: Buffer) => number,
): Buffer {
  let flags = 0;
  const fields: Buffer[] = [];
  if (header.extra) {
    flags |= 4;
    const len = Buffer.alloc(2);
    len.writeUInt16LE(header.extra.length);
    fields.push(len, header.extra);
  }
  if (header.name !== undefined) {
    flags |= 8;
    fields.push(Buffer.from(header.name + '\0', 'latin1'));
  }
  if (header.comment !== undefined) {
    flags |= 16;
    fields.push(Buffer.from(header.comment + '\0', 'latin1'));
  }
  if (header.headerCrc) flags |= 2;
  const fixed = Buffer.from([0x1f, 0x8b, 8, flags, 0x78, 0x56, 0x34, 0x12, 0, 3]);
  let head = Buffer.concat([fixed, ...fields]);
  if (header.headerCrc) {
    const hcrc = Buffer.alloc(2);
    hcrc.writeUInt16LE(crc32(head) & 0xffff);
    head = Buffer.concat([head, hcrc]);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([head, deflate(data), trailer]);
}
