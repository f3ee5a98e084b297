// Reads the 512-byte block structure of a tar stream and turns it into members: headers (with their pax,
// GNU long-name and old GNU sparse extension records applied, see extract/tar-member.ts), each member's data
// and its end. It finds the end-of-archive blocks, rejects what follows them, and enforces the size and
// count caps before any data is written. Framing follows GNU tar exactly (which types carry data, how
// numeric fields read): one reader, so no member can be seen differently by two.
// A single state machine (header, extension records, data, padding, end blocks) whose states share the
// block position and the pending extensions: kept whole in one file (~440 lines) so its transitions read together.
import { ArchiveError } from '../errors';
import type { EntryHeader, EntryWarningCode } from './extract-types';
import { parsePax } from './pax';
import { assembleMember, type MemberNote } from './tar-member';
import { BLOCK, decodeHeader, numericField, readSparseEntries, type RawHeader } from './tar-header';
import { isZeroBlock, tarChecksumMatches } from '../decode/format-detect';
import { checkMemberLimits, type ExtractLimits } from './tar-limits';

export interface FramedEntry {
  /** Offset of the member's own header (after any pax / long-name records). */
  headerOffset: number;
  /** Offset of its first data byte. */
  dataOffset: number;
  /** Data bytes in the archive (zero for directories and links). */
  size: number;
  name: string;
}

export type FramerEvent =
  | { kind: 'member'; framed: FramedEntry; entry: EntryHeader; notes: MemberNote[]; silent: boolean }
  | { kind: 'data'; data: Buffer }
  | { kind: 'end' }
  | { kind: 'notice'; offset: number; code: EntryWarningCode; reason: string };

type State = 'header' | 'data' | 'long' | 'sparse-ext' | 'end';

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
  /** Kept for checkpoints written before global records were stored raw only; always null now. */
  globalPaxSize: string | null;
  /** The last global pax record (header block, body, padding) as base64: its records still apply. */
  globalPaxRecord: string | null;
  /** `data` only: bytes of data and padding still to come, and the member they belong to. */
  remaining: number;
  current: FramedEntry | null;
}

const c = (ch: string) => ch.charCodeAt(0);
const RECORD_TYPES = new Set([c('K'), c('L'), c('x'), c('g'), c('X')]);

export class TarFramer {
  private state: State = 'header';
  private pos = 0;
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  /** Data bytes of the current member still to come, then its padding. */
  private dataLeft = 0;
  private padLeft = 0;
  private zeroBlocks = 0;
  private entryCount = 0;
  private declaredTotal = 0;
  private currentEntry: FramedEntry | null = null;
  // Records read for the member to come.
  private local: Array<[string, Buffer]> = [];
  private global: Array<[string, Buffer]> = [];
  private longName: Buffer | null = null;
  private longLink: Buffer | null = null;
  private notes: MemberNote[] = [];
  private record: { type: number; body: Buffer; fill: number; padding: number; header: Buffer } | null = null;
  private sparseHeader: { header: RawHeader; at: number; regions: Array<[number, number]> } | null = null;
  private globalPaxRecord: Buffer | null = null;
  private out: FramerEvent[] = [];
  /**
   * Where the current header sequence (pax / long-name records, then the member's header) began, with the
   * counters as they were there: a resume can replay the raw bytes from that point into a fresh framer.
   */
  private seqStart = 0;
  private seqEntryCount = 0;
  private seqDeclaredTotal = 0;
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

  /** The state at the start of the current header sequence. */
  sequenceSnapshot(): FramerSnapshot {
    return {
      state: 'header',
      pos: this.seqStart,
      entryCount: this.seqEntryCount,
      declaredTotal: this.seqDeclaredTotal,
      globalPaxSize: null,
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
      globalPaxSize: null,
      globalPaxRecord: this.globalPaxRecord?.toString('base64') ?? null,
      remaining: this.state === 'data' ? this.dataLeft + this.padLeft : 0,
      current: this.state === 'data' ? { ...this.currentEntry! } : null,
    };
  }

  private restore(s: FramerSnapshot): void {
    this.state = s.state;
    this.pos = s.pos;
    this.entryCount = s.entryCount;
    this.declaredTotal = s.declaredTotal;
    this.globalPaxRecord = s.globalPaxRecord ? Buffer.from(s.globalPaxRecord, 'base64') : null;
    if (this.globalPaxRecord) {
      const size = numericField(this.globalPaxRecord, 124, 12) ?? 0;
      this.global = parsePax(this.globalPaxRecord.subarray(BLOCK, BLOCK + size)).records;
    }
    if (s.state === 'data') {
      const e = s.current!;
      this.currentEntry = { ...e };
      this.dataLeft = Math.max(0, e.dataOffset + e.size - s.pos);
      this.padLeft = s.remaining - this.dataLeft;
    }
    this.markSequence(s.state === 'data' ? s.pos + s.remaining : s.pos);
  }

  private markSequence(at: number): void {
    this.seqStart = at;
    this.seqEntryCount = this.entryCount;
    this.seqDeclaredTotal = this.declaredTotal;
    this.seqGlobalPaxRecord = this.globalPaxRecord;
  }

  /** Uncompressed tar bytes examined so far. */
  get position(): number {
    return this.pos;
  }

  /** True between members (nothing of a header sequence buffered). */
  get atBoundary(): boolean {
    return (this.state === 'header' && this.blockFill === 0 && this.seqStart + this.zeroBlocks * BLOCK === this.pos) || this.state === 'end';
  }

  get ended(): boolean {
    return this.state === 'end';
  }

  get entries(): number {
    return this.entryCount;
  }

  /** The member whose data or padding is being read, or null between members. */
  get current(): FramedEntry | null {
    return this.state === 'data' ? this.currentEntry : null;
  }

  /** In the current member's padding: its data is complete. */
  get inPadding(): boolean {
    return this.state === 'data' && this.dataLeft === 0;
  }

  /**
   * Examines the next bytes of the tar stream, appending what they hold to `events` (data events are views
   * of `buf`). Throws on a broken or hostile archive; the events before the bad spot are in `events` then.
   */
  push(buf: Buffer, events: FramerEvent[]): void {
    this.out = events;
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'data': {
          if (this.dataLeft > 0) {
            const n = Math.min(this.dataLeft, buf.length - i);
            events.push({ kind: 'data', data: buf.subarray(i, i + n) });
            this.dataLeft -= n;
            this.pos += n;
            i += n;
            if (this.dataLeft === 0) events.push({ kind: 'end' });
          } else {
            const n = Math.min(this.padLeft, buf.length - i);
            this.padLeft -= n;
            this.pos += n;
            i += n;
          }
          if (this.dataLeft === 0 && this.padLeft === 0) {
            this.state = 'header';
            this.markSequence(this.pos);
          }
          break;
        }
        case 'header':
        case 'sparse-ext': {
          const n = Math.min(BLOCK - this.blockFill, buf.length - i);
          if (n === BLOCK) {
            this.pos += n;
            this.onBlock(buf, i, this.pos - BLOCK);
          } else {
            buf.copy(this.block, this.blockFill, i, i + n);
            this.blockFill += n;
            this.pos += n;
            if (this.blockFill === BLOCK) {
              this.blockFill = 0;
              this.onBlock(this.block, 0, this.pos - BLOCK);
            }
          }
          i += n;
          break;
        }
        case 'long': {
          const r = this.record!;
          if (r.fill < r.body.length) {
            const n = Math.min(r.body.length - r.fill, buf.length - i);
            buf.copy(r.body, r.fill, i, i + n);
            r.fill += n;
            this.pos += n;
            i += n;
            if (r.fill === r.body.length) this.onRecord(r);
          } else {
            const n = Math.min(r.padding, buf.length - i);
            r.padding -= n;
            this.pos += n;
            i += n;
          }
          if (r.fill === r.body.length && r.padding === 0) {
            this.record = null;
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
  }

  /** Called once the stream has ended: throws when the archive is incomplete. */
  finish(): void {
    const at = this.pos;
    switch (this.state) {
      case 'end':
        return;
      case 'header':
        if (!this.atBoundary) throw truncated(`The tar stream ends inside a header, at byte ${at}.`, at);
        // One zero block where two are due: the content is complete; GNU tar accepts it.
        if (this.zeroBlocks === 1) return;
        if (at === 0) throw truncated('The archive contains no tar data at all.', at);
        throw truncated(
          `The tar stream ends at byte ${at} without the end-of-archive blocks. Every member up to there ` +
            `(${this.entryCount} in all) was extracted completely, but the archive itself is incomplete: the download ` +
            'may have been cut short at a member boundary.',
          at,
        );
      case 'sparse-ext':
        throw truncated(`The tar stream ends at byte ${at}, inside the sparse map of "${this.sparseHeader?.header.name}".`, at);
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

  private onBlock(block: Buffer, off: number, at: number): void {
    if (this.state === 'sparse-ext') {
      this.onSparseExtension(block, off, at);
      return;
    }
    if (isZeroBlock(block, off)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.state = 'end';
      return;
    }
    if (this.zeroBlocks === 1) {
      // GNU tar ends the archive at a zero block whatever follows it, and warns when the next is not zero.
      this.out.push({
        kind: 'notice',
        offset: at - BLOCK,
        code: 'END_OF_ARCHIVE',
        reason: `a lone zero block at byte ${at - BLOCK} ends the archive (the block after it is not zero)`,
      });
      this.state = 'end';
      return;
    }
    if (!tarChecksumMatches(block, off)) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `Bad tar header checksum at byte ${at}: the archive is corrupt (or not a tar).`, {
        details: { offset: at },
      });
    }
    const h = decodeHeader(block, off);
    if (RECORD_TYPES.has(h.typeflag)) {
      this.startRecord(h, block, off, at);
      return;
    }
    if (h.oldSparse?.extended) {
      this.sparseHeader = { header: h, at, regions: [] };
      this.state = 'sparse-ext';
      return;
    }
    this.onMember(h, at, []);
  }

  private startRecord(h: RawHeader, block: Buffer, off: number, at: number): void {
    const size = h.size;
    if (size === null) throw new ArchiveError('E_ARCHIVE_CORRUPT', `Invalid size field in the tar header at byte ${at}.`, { details: { offset: at } });
    if (size > this.limits.maxPaxHeaderSize) {
      throw new ArchiveError('E_LIMIT_EXCEEDED', `A pax or long-name record of ${size} bytes at byte ${at} exceeds the limit of ${this.limits.maxPaxHeaderSize}.`, {
        details: { offset: at, size, limit: this.limits.maxPaxHeaderSize },
      });
    }
    this.record = { type: h.typeflag, body: Buffer.alloc(size), fill: 0, padding: padding(size), header: Buffer.from(block.subarray(off, off + BLOCK)) };
    this.state = 'long';
    if (size === 0) this.onRecord(this.record);
    if (this.record.padding === 0 && size === 0) {
      this.record = null;
      this.state = 'header';
    }
  }

  private onRecord(r: { type: number; body: Buffer; header: Buffer }): void {
    if (r.type === c('L')) this.longName = r.body;
    else if (r.type === c('K')) this.longLink = r.body;
    else {
      const parsed = parsePax(r.body);
      if (parsed.problem) {
        const reason = `a malformed pax record (${parsed.problem}); the records after it are ignored`;
        if (r.type === c('g')) this.out.push({ kind: 'notice', offset: this.pos - r.body.length - BLOCK, code: 'PAX_MALFORMED', reason });
        else this.notes.push({ code: 'PAX_MALFORMED', reason, skipped: false });
      }
      if (r.type === c('g')) {
        this.global = parsed.records;
        this.globalPaxRecord = Buffer.concat([r.header, r.body, Buffer.alloc(padding(r.body.length))]);
      } else {
        this.local.push(...parsed.records);
      }
    }
  }

  private onSparseExtension(block: Buffer, off: number, at: number): void {
    const s = this.sparseHeader!;
    if (!readSparseEntries(block, off, 21, s.regions)) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `Invalid sparse extension header at byte ${at}.`, { details: { offset: at } });
    }
    // The map is held in memory (and in checkpoints): bounded like a pax record.
    if (s.regions.length * 24 > this.limits.maxPaxHeaderSize) {
      throw new ArchiveError('E_LIMIT_EXCEEDED', `The sparse map at byte ${s.at} is larger than the limit of ${this.limits.maxPaxHeaderSize} bytes.`, {
        details: { offset: s.at, limit: this.limits.maxPaxHeaderSize },
      });
    }
    if (block[off + 504] !== 0) return;
    this.sparseHeader = null;
    this.state = 'header';
    this.onMember(s.header, s.at, s.regions);
  }

  private onMember(h: RawHeader, at: number, extRegions: Array<[number, number]>): void {
    const m = assembleMember(h, {
      local: this.local,
      global: this.global,
      longName: this.longName,
      longLink: this.longLink,
      extRegions,
      notes: this.notes,
      offset: at,
    });
    this.local = [];
    this.longName = null;
    this.longLink = null;
    this.notes = [];
    this.zeroBlocks = 0;
    const name = m.entry.name;
    const size = m.dataSize;
    this.entryCount++;
    this.declaredTotal += size;
    checkMemberLimits(this.limits, { count: this.entryCount, size, total: this.declaredTotal, name, offset: at });
    // Data starts after the header (and any old GNU sparse extension blocks): this block's end.
    const framed: FramedEntry = { headerOffset: at, dataOffset: this.pos, size, name };
    this.currentEntry = framed;
    this.out.push({ kind: 'member', framed, entry: m.entry, notes: m.notes, silent: m.silent });
    this.dataLeft = size;
    this.padLeft = padding(size);
    if (size > 0) this.state = 'data';
    else {
      this.out.push({ kind: 'end' });
      this.markSequence(this.pos);
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
