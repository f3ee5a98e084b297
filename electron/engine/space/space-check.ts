// Will it fit? The staging window needs window x chunk size; the output needs what is known of its size: the
// file itself (download only), the content size an lz4 frame declares in its descriptor (read with the
// file's first bytes), or for a single-member gzip under 4 GiB the trailer's ISIZE, read with one 4-byte
// range request at the end (a hint only: ISIZE is the size modulo 2^32).
import { promises as fsp } from 'node:fs';
import type { Dispatcher } from 'undici';
import { declaredContentSizeOf } from '../decode/lz4/frame';
import { HARD_MAX_WINDOW, isSkippableMagic, parseFrameHeader, ZSTD_MAGIC } from '../decode/zstd/frame-header';
import { EngineError, formatBytes } from '../errors';
import { discardBody, USER_AGENT } from '../transfer/http';
import { pathOf } from '../transfer/probe';
import { contentCoding } from '../transfer/response-checks';
import { headersFor, type HeaderSet } from '../transfer/origin-headers';

const FOUR_GIB = 2 ** 32;

/** Bytes read from the start: an lz4 descriptor, behind a skippable frame or two (pzstd writes one). */
const HEAD_BYTES = 64;

/** The uncompressed size hint of a compressed file and where it comes from, or null when there is none to trust. */
export async function outputSizeHint(
  dispatcher: Dispatcher,
  url: string,
  size: number,
  validator: string | null,
  headers?: HeaderSet | null,
): Promise<{ bytes: number; what: string } | null> {
  if (size < 18) return null;
  const head = await readRange(dispatcher, url, 0, Math.min(size, HEAD_BYTES) - 1, validator, headers);
  if (!head) return null;
  // A file of several frames or members declares only its first frame's size (or last member's):
  // implausibly small next to the whole file, so not used.
  const plausible = (bytes: number) => bytes >= size / 2;
  const lz4 = declaredContentSizeOf(head);
  if (lz4 !== null) return plausible(lz4) ? { bytes: lz4, what: 'lz4 content size' } : null;
  const zstd = zstdContentSizeOf(head);
  if (zstd !== null) return plausible(zstd) ? { bytes: zstd, what: 'zstd frame content size' } : null;
  if (head[0] !== 0x1f || head[1] !== 0x8b || size >= FOUR_GIB) return null;
  const tail = await readRange(dispatcher, url, size - 4, size - 1, validator, headers);
  if (!tail) return null;
  const isize = tail.readUInt32LE(0);
  return plausible(isize) ? { bytes: isize, what: 'gzip size hint' } : null;
}

async function readRange(dispatcher: Dispatcher, url: string, start: number, end: number, validator: string | null, headers?: HeaderSet | null): Promise<Buffer | null> {
  try {
    const res = await dispatcher.request({
      origin: new URL(url).origin,
      path: pathOf(url),
      method: 'GET',
      headers: {
        'user-agent': USER_AGENT,
        ...headersFor(headers, url),
        range: `bytes=${start}-${end}`,
        'accept-encoding': 'identity',
        ...(validator ? { 'if-range': validator } : {}),
      },
    });
    if (res.statusCode !== 206 || contentCoding(res.headers) !== null) {
      discardBody(res.body);
      return null;
    }
    return await readAtMost(res.body, end - start + 1);
  } catch {
    return null; // a hint only: never fail a job over it
  }
}

/**
 * Exactly `want` bytes of a body, or null: reading stops (and the connection goes) as soon as more arrives
 * than was asked for, so a server that answers a 2-byte range with gigabytes costs nothing.
 */
export async function readAtMost(body: Dispatcher.ResponseData['body'], want: number): Promise<Buffer | null> {
  const pieces: Buffer[] = [];
  let got = 0;
  for await (const piece of body as AsyncIterable<Buffer>) {
    got += piece.length;
    if (got > want) {
      // A longer body than the range is a protocol error: not one byte more is read.
      discardBody(body);
      return null;
    }
    pieces.push(piece);
  }
  return got === want ? Buffer.concat(pieces) : null;
}

export interface SpaceNeed {
  path: string;
  bytes: number;
  what: string;
}

/** Refuses up front when a filesystem cannot hold what the job will write (needs on one device are summed). */
export async function checkFreeSpace(needs: SpaceNeed[]): Promise<void> {
  const byDevice = new Map<number, { free: number; needs: SpaceNeed[]; path: string }>();
  for (const need of needs) {
    if (need.bytes <= 0) continue;
    const st = await fsp.stat(need.path).catch(() => null);
    const fs = await fsp.statfs(need.path).catch(() => null);
    if (!st || !fs) continue;
    const entry = byDevice.get(st.dev) ?? { free: fs.bavail * fs.bsize, needs: [], path: need.path };
    entry.needs.push(need);
    byDevice.set(st.dev, entry);
  }
  for (const { free, needs: list, path } of byDevice.values()) {
    const total = list.reduce((s, n) => s + n.bytes, 0);
    if (total > free) {
      throw new EngineError(
        'E_DISK_FULL',
        `Not enough free space on the filesystem of ${path}: ${formatBytes(free)} free, about ${formatBytes(total)} needed (${list.map((n) => `${n.what} ${formatBytes(n.bytes)}`).join(', ')}). ` +
          'Free some space, choose another destination or a smaller --window/--chunk-size, or pass --force to start anyway.',
        { details: { path, free, needed: total } },
      );
    }
  }
}

/**
 * The content size the first zstd frame declares (zstd writes it when it knows the input size), behind
 * skippable frames (pzstd writes one before each frame); null when there is none or the head is too short.
 */
export function zstdContentSizeOf(head: Buffer): number | null {
  let p = 0;
  while (p + 8 <= head.length && isSkippableMagic(head.readUInt32LE(p))) p += 8 + head.readUInt32LE(p + 4);
  if (p + 5 > head.length || head.readUInt32LE(p) !== ZSTD_MAGIC) return null;
  try {
    // Only the size is wanted here: the window is checked by the decoder, against the job's limit.
    return parseFrameHeader(head, p + 4, p, HARD_MAX_WINDOW).contentSize;
  } catch {
    return null;
  }
}
