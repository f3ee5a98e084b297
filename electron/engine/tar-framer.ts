// Follows the 512-byte block structure of the tar stream ahead of tar-stream, which only parses. It knows
// where every header starts, so it can: find the end-of-archive blocks (tar-stream silently skips zero
// blocks and accepts a stream cut at an entry boundary), stop feeding the parser there and reject what
// follows, enforce the size and count caps before any data is written, and cross-check the parser's
// framing (a member it frames differently is a parser-differential attack, refused outright).
// Header fields are decoded exactly as tar-stream decodes them; anything ambiguous is fatal.
import { ArchiveError } from './errors';
import { isZeroBlock, tarChecksumMatches } from './format-detect';
import type { ExtractLimits } from './tar-limits';

const BLOCK = 512;

export interface FramedEntry {
  /** Offset of the member's own header (after any pax / long-name records). */
  headerOffset: number;
  /** Offset of its first data byte. */
  dataOffset: number;
  /** Data bytes (after a pax `size`), zero for directories. */
  size: number;
  name: string;
}

type State = 'header' | 'data' | 'long' | 'end';

/**
 * The framer's state at a point where extraction can resume: a member's data (`data`), the start of a
 * header sequence (`header`: nothing of it read yet), or past the end-of-archive blocks (`end`).
 * Plain JSON, so it can be saved with a resume checkpoint.
 */
export interface FramerSnapshot {
  state: 'header' | 'data' | 'end';
  pos: number;
  entryCount: number;
  declaredTotal: number;
  globalPaxSize: string | null;
  /** The last global pax record (header block, body, padding) as base64: a fresh parser must see it again. */
  globalPaxRecord: string | null;
  /** `data` only: bytes of data and padding still to come, and the member they belong to. */
  remaining: number;
  current: FramedEntry | null;
}

// tar-stream's type numbers (typeflag char minus '0') for the records it consumes itself.
const LONG_TYPES = new Set([27 /* K */, 28 /* L */, 30 /* N */, 55 /* g */, 72 /* x */]);

export class TarFramer {
  private state: State = 'header';
  private pos = 0;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private longType = 0;
  private longBody: Buffer | null = null;
  private longFill = 0;
  private longPadding = 0;
  private zeroBlocks = 0;
  private localPaxSize: string | undefined;
  private localPax = false;
  private globalPaxSize: string | undefined;
  private entryCount = 0;
  private declaredTotal = 0;
  private currentEntry: FramedEntry | null = null;
  /** Members framed but not yet claimed by the parser, oldest first. */
  private readonly pending: FramedEntry[] = [];
  /** The last global pax record, raw; and the header block of a global record being read. */
  private globalPaxRecord: Buffer | null = null;
  private longHeaderBlock: Buffer | null = null;
  /**
   * Where the current header sequence (pax / long-name records, then the member's header) began, with the
   * counters as they were there: a resume can replay the raw bytes from that point into a fresh parser.
   */
  private seqStart = 0;
  private seqEntryCount = 0;
  private seqDeclaredTotal = 0;
  private seqGlobalPaxSize: string | undefined;
  private seqGlobalPaxRecord: Buffer | null = null;

  constructor(
    private readonly limits: ExtractLimits,
    resumeFrom?: FramerSnapshot,
  ) {
    if (resumeFrom) this.restore(resumeFrom);
  }

  /** Start of the current header sequence (the end of the last complete member, padding included). */
  get sequenceStart(): number {
    return this.seqStart;
  }

  /** The state at the start of the current header sequence (valid while in a header, a record or a member's data). */
  sequenceSnapshot(): FramerSnapshot {
    return {
      state: 'header',
      pos: this.seqStart,
      entryCount: this.seqEntryCount,
      declaredTotal: this.seqDeclaredTotal,
      globalPaxSize: this.seqGlobalPaxSize ?? null,
      globalPaxRecord: this.seqGlobalPaxRecord?.toString('base64') ?? null,
      remaining: 0,
      current: null,
    };
  }

  /** The state right now, inside a member's data or padding, or past the end of the archive. */
  snapshot(): FramerSnapshot {
    if (this.state !== 'data' && this.state !== 'end') throw new Error(`no resumable framer snapshot in state ${this.state}`);
    return {
      state: this.state,
      pos: this.pos,
      entryCount: this.entryCount,
      declaredTotal: this.declaredTotal,
      globalPaxSize: this.globalPaxSize ?? null,
      globalPaxRecord: this.globalPaxRecord?.toString('base64') ?? null,
      remaining: this.state === 'data' ? this.remaining : 0,
      current: this.state === 'data' ? { ...this.currentEntry! } : null,
    };
  }

  /** The global pax record in force, raw (a fresh parser is fed it first so it applies the same defaults). */
  get globalRecord(): Buffer | null {
    return this.globalPaxRecord;
  }

  private restore(s: FramerSnapshot): void {
    this.state = s.state;
    this.pos = s.pos;
    this.entryCount = s.entryCount;
    this.declaredTotal = s.declaredTotal;
    this.globalPaxSize = s.globalPaxSize ?? undefined;
    this.globalPaxRecord = s.globalPaxRecord ? Buffer.from(s.globalPaxRecord, 'base64') : null;
    if (s.state === 'data') {
      this.remaining = s.remaining;
      this.currentEntry = s.current ? { ...s.current } : null;
    }
    this.markSequence(s.state === 'data' ? s.pos + s.remaining : s.pos);
  }

  private markSequence(at: number): void {
    this.seqStart = at;
    this.seqEntryCount = this.entryCount;
    this.seqDeclaredTotal = this.declaredTotal;
    this.seqGlobalPaxSize = this.globalPaxSize;
    this.seqGlobalPaxRecord = this.globalPaxRecord;
  }

  /** Uncompressed tar bytes examined so far. */
  get position(): number {
    return this.pos;
  }

  /** True between members (nothing of a header or member buffered): the parser can be ended cleanly. */
  get atBoundary(): boolean {
    return (this.state === 'header' && this.headerFill === 0) || this.state === 'end';
  }

  get ended(): boolean {
    return this.state === 'end';
  }

  get entries(): number {
    return this.entryCount;
  }

  /** The member whose data is being read (resume needs it), or null between members. */
  get current(): FramedEntry | null {
    return this.state === 'data' ? this.currentEntry : null;
  }

  /** The oldest member framed but not yet claimed by the parser (for the cross-check). */
  claim(): FramedEntry | undefined {
    return this.pending.shift();
  }

  /**
   * Examines the next bytes of the tar stream. Returns how many of them belong to the archive (all of them
   * until the end-of-archive blocks); the rest must be zero padding, else E_TRAILING_GARBAGE.
   */
  push(buf: Buffer): number {
    let i = 0;
    // Where the end-of-archive blocks finished inside this buffer (0 when they ended before it).
    let archiveBytes = this.state === 'end' ? 0 : -1;
    while (i < buf.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          this.remaining -= n;
          this.pos += n;
          i += n;
          if (this.remaining === 0) {
            this.state = 'header';
            this.markSequence(this.pos);
          }
          break;
        }
        case 'header': {
          const n = Math.min(BLOCK - this.headerFill, buf.length - i);
          if (n === BLOCK) {
            // Common case: the whole header lies in this buffer; examine it in place.
            this.onHeader(buf, i, this.pos);
          } else {
            buf.copy(this.header, this.headerFill, i, i + n);
            this.headerFill += n;
            if (this.headerFill === BLOCK) {
              this.headerFill = 0;
              // The header began in an earlier buffer: its offset is where this piece ends, minus a block.
              this.onHeader(this.header, 0, this.pos + n - BLOCK);
            }
          }
          this.pos += n;
          i += n;
          if ((this.state as State) === 'end') archiveBytes = i;
          break;
        }
        case 'long': {
          const body = this.longBody!;
          if (this.longFill < body.length) {
            const n = Math.min(body.length - this.longFill, buf.length - i);
            buf.copy(body, this.longFill, i, i + n);
            this.longFill += n;
            this.pos += n;
            i += n;
            if (this.longFill === body.length) this.onLongBody(body);
          } else {
            const n = Math.min(this.longPadding, buf.length - i);
            this.longPadding -= n;
            this.pos += n;
            i += n;
          }
          if (this.longFill === body.length && this.longPadding === 0) {
            this.longBody = null;
            this.state = 'header';
          }
          break;
        }
        case 'end': {
          checkZeros(buf, i, this.pos);
          this.pos += buf.length - i;
          i = buf.length;
          break;
        }
      }
    }
    return archiveBytes < 0 ? buf.length : archiveBytes;
  }

  /** Called once the stream has ended: throws when the archive is incomplete. */
  finish(): void {
    const at = this.pos;
    switch (this.state) {
      case 'end':
        return;
      case 'header':
        if (this.headerFill > 0) throw truncated(`The tar stream ends inside a header, at byte ${at}.`, at);
        // One zero block where two are due: the content is complete; GNU tar accepts it with a warning.
        if (this.zeroBlocks === 1) return;
        if (at === 0) throw truncated('The archive contains no tar data at all.', at);
        throw truncated(
          `The tar stream ends at byte ${at}, after the last complete member but without the end-of-archive blocks: ` +
            'the download was cut short.',
          at,
        );
      case 'data': {
        const e = this.currentEntry!;
        const missing = e.dataOffset + e.size - at;
        throw truncated(
          missing > 0
            ? `The tar stream ends at byte ${at}, inside "${e.name}" (${missing} of its ${e.size} bytes missing).`
            : `The tar stream ends at byte ${at}, inside the padding after "${e.name}".`,
          at,
        );
      }
      case 'long':
        throw truncated(`The tar stream ends at byte ${at}, inside a long-name or pax record.`, at);
    }
  }

  private onHeader(block: Buffer, off: number, at: number): void {
    if (isZeroBlock(block, off)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.state = 'end';
      return;
    }
    this.zeroBlocks = 0;
    if (!tarChecksumMatches(block, off)) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `Bad tar header checksum at byte ${at}: the archive is corrupt (or not a tar).`, {
        details: { offset: at },
      });
    }
    const typeflag = block[off + 156] === 0 ? 0 : block[off + 156]! - 48;
    const headerSize = decodeSize(block, off + 124);
    if (headerSize === null || !(headerSize >= 0) || !Number.isSafeInteger(headerSize)) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `Invalid size field in the tar header at byte ${at}.`, { details: { offset: at } });
    }
    if (LONG_TYPES.has(typeflag)) {
      if (headerSize > this.limits.maxPaxHeaderSize) {
        throw new ArchiveError(
          'E_LIMIT_EXCEEDED',
          `A pax or long-name record of ${headerSize} bytes at byte ${at} exceeds the limit of ${this.limits.maxPaxHeaderSize}.`,
          { details: { offset: at, size: headerSize, limit: this.limits.maxPaxHeaderSize } },
        );
      }
      if (headerSize === 0) {
        // tar-stream mishandles an empty record (it would misframe the next member's padding); none is legitimate.
        throw new ArchiveError('E_ARCHIVE_CORRUPT', `Empty pax or long-name record at byte ${at}.`, { details: { offset: at } });
      }
      this.longType = typeflag;
      this.longHeaderBlock = typeflag === 55 ? Buffer.from(block.subarray(off, off + BLOCK)) : null;
      this.longBody = Buffer.alloc(headerSize);
      this.longFill = 0;
      this.longPadding = padding(headerSize);
      this.state = 'long';
      return;
    }
    const name = decodeName(block, off);
    let size = headerSize;
    const paxSize = this.localPax ? (this.localPaxSize ?? this.globalPaxSize) : undefined;
    this.localPax = false;
    this.localPaxSize = undefined;
    if (paxSize) size = parseInt(paxSize, 10);
    if (!(size >= 0) || !Number.isSafeInteger(size)) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `Invalid pax size for "${name}" at byte ${at}.`, { details: { offset: at, entry: name } });
    }
    const isDirectory = typeflag === 5 || (typeflag === 0 && name.endsWith('/'));
    if (isDirectory && size > 0) {
      // tar-stream reads no data for a directory while GNU tar skips it: the two would see different members.
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `The directory "${name}" at byte ${at} declares ${size} data bytes.`, {
        details: { offset: at, entry: name },
      });
    }
    this.entryCount++;
    if (this.entryCount > this.limits.maxEntries) {
      throw new ArchiveError('E_LIMIT_EXCEEDED', `The archive has more than ${this.limits.maxEntries} members.`, {
        details: { offset: at, limit: this.limits.maxEntries },
      });
    }
    if (size > this.limits.maxEntrySize) {
      throw new ArchiveError('E_LIMIT_EXCEEDED', `"${name}" declares ${size} bytes, over the per-entry limit of ${this.limits.maxEntrySize}.`, {
        details: { offset: at, entry: name, size, limit: this.limits.maxEntrySize },
      });
    }
    this.declaredTotal += size;
    if (this.declaredTotal > this.limits.maxTotalSize) {
      throw new ArchiveError(
        'E_LIMIT_EXCEEDED',
        `The archive's members add up to more than the limit of ${this.limits.maxTotalSize} bytes (reached at "${name}").`,
        { details: { offset: at, entry: name, limit: this.limits.maxTotalSize } },
      );
    }
    const entry: FramedEntry = { headerOffset: at, dataOffset: at + BLOCK, size, name };
    this.pending.push(entry);
    this.currentEntry = entry;
    this.remaining = size + padding(size);
    if (this.remaining > 0) this.state = 'data';
    else this.markSequence(at + BLOCK);
  }

  private onLongBody(body: Buffer): void {
    if (this.longType === 72) {
      this.localPax = true;
      this.localPaxSize = paxSizeRecord(body);
    } else if (this.longType === 55) {
      this.globalPaxSize = paxSizeRecord(body);
      this.globalPaxRecord = Buffer.concat([this.longHeaderBlock!, body, Buffer.alloc(padding(body.length))]);
      this.longHeaderBlock = null;
    }
  }
}

function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function truncated(message: string, offset: number): ArchiveError {
  return new ArchiveError('E_ARCHIVE_TRUNCATED', message, { details: { offset } });
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Bytes after the end-of-archive blocks may only be zero padding (GNU tar pads to a 10 KiB record). */
function checkZeros(buf: Buffer, start: number, startOffset: number): void {
  for (let s = start; s < buf.length; s += ZEROS.length) {
    const e = Math.min(buf.length, s + ZEROS.length);
    if (buf.compare(ZEROS, 0, e - s, s, e) !== 0) {
      let k = s;
      while (buf[k] === 0) k++;
      const offset = startOffset + (k - start);
      throw new ArchiveError('E_TRAILING_GARBAGE', `Unexpected data after the end of the tar archive, at byte ${offset}.`, {
        details: { offset },
      });
    }
  }
}

/** The size field exactly as tar-stream reads it: base-256 when the high bit is set, else octal text. */
function decodeSize(block: Buffer, off: number): number | null {
  const field = block.subarray(off, off + 12);
  if (field[0]! & 0x80) {
    if (field[0] !== 0x80) return null; // negative (0xff) or malformed
    let sum = 0;
    for (let i = 1; i < 12; i++) sum = sum * 256 + field[i]!;
    return sum;
  }
  let i = 0;
  while (i < 12 && field[i] === 32) i++;
  let end = field.indexOf(32, i);
  if (end < 0) end = 12;
  while (i < end && field[i] === 0) i++;
  if (end === i) return 0;
  return parseInt(field.toString('latin1', i, end), 8);
}

function cstring(block: Buffer, off: number, len: number): string {
  let end = block.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return block.toString('utf8', off, end);
}

/** The member name as tar-stream builds it from the header alone (ustar prefix included). */
function decodeName(block: Buffer, off: number): string {
  let name = cstring(block, off, 100);
  const ustar = block.compare(USTAR_MAGIC, 0, 6, off + 257, off + 263) === 0;
  if (ustar && block[off + 345]) name = cstring(block, off + 345, 155) + '/' + name;
  return name;
}
const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1');

/** The `size` record of a pax header, parsed like tar-stream's decodePax (last one wins). */
function paxSizeRecord(body: Buffer): string | undefined {
  let size: string | undefined;
  let buf = body;
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.toString('utf8', 0, i), 10);
    if (!len) return size;
    const record = buf.toString('utf8', i + 1, len - 1);
    const eq = record.indexOf('=');
    if (eq === -1) return size;
    if (record.slice(0, eq) === 'size') size = record.slice(eq + 1);
    buf = buf.subarray(len);
  }
  return size;
}
