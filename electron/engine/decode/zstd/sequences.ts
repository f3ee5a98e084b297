// The sequences section (RFC 8878 3.1.1.3.2 and 3.1.1.4): the three code tables by mode, then one pass
// that decodes each sequence from the backward bitstream and executes it straight into the window.
// Everything lives in typed arrays owned by SequenceTables; the loop allocates nothing.
import { fault } from './fault';
import { FseTable, PREDEFINED, readFseTable } from './fse';
import type { Literals } from './literals';
import type { OutputWindow } from './window';

const LL_BASE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const LL_BITS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const ML_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259,
  515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
];
const ML_BITS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];
// Offset code 31 would mean offsets of 2 GiB and more, beyond any window this decoder accepts.
const OF_BASE = Array.from({ length: 31 }, (_, i) => 2 ** i);
const OF_BITS = Array.from({ length: 31 }, (_, i) => i);

export type TableKind = 'll' | 'of' | 'ml';
export type TableMode = 'predefined' | 'rle' | 'fse';

/** One symbol kind's current table with, per state, the code's value base and extra bits resolved. */
export class CodeTable {
  readonly own: FseTable;
  table: FseTable | null = null;
  mode: TableMode | null = null;
  readonly vBase: Int32Array;
  readonly vBits: Uint8Array;
  private readonly base: number[];
  private readonly bits: number[];
  readonly maxSymbol: number;
  readonly maxLog: number;

  constructor(kind: TableKind) {
    this.maxLog = kind === 'of' ? 8 : 9;
    this.own = new FseTable(this.maxLog);
    this.base = kind === 'll' ? LL_BASE : kind === 'ml' ? ML_BASE : OF_BASE;
    this.bits = kind === 'll' ? LL_BITS : kind === 'ml' ? ML_BITS : OF_BITS;
    this.maxSymbol = this.base.length - 1;
    this.vBase = new Int32Array(1 << this.maxLog);
    this.vBits = new Uint8Array(1 << this.maxLog);
  }

  use(table: FseTable, mode: TableMode): void {
    this.table = table;
    this.mode = mode;
    const n = 1 << table.log;
    for (let s = 0; s < n; s++) {
      const code = table.symbol[s]!;
      if (code > this.maxSymbol) fault('Sequence code is out of range');
      this.vBase[s] = this.base[code]!;
      this.vBits[s] = this.bits[code]!;
    }
  }

  reset(): void {
    this.table = null;
    this.mode = null;
  }
}

export class SequenceTables {
  readonly ll = new CodeTable('ll');
  readonly of = new CodeTable('of');
  readonly ml = new CodeTable('ml');
  /** Repeat offsets; they carry over from block to block within a frame. */
  readonly rep = new Int32Array([1, 4, 8]);

  reset(): void {
    this.ll.reset();
    this.of.reset();
    this.ml.reset();
    this.rep[0] = 1;
    this.rep[1] = 4;
    this.rep[2] = 8;
  }
}

function selectTable(ct: CodeTable, mode: number, src: Uint8Array, p: number, end: number, predefined: FseTable): number {
  if (mode === 0) {
    ct.use(predefined, 'predefined');
    return 0;
  }
  if (mode === 1) {
    if (p >= end) fault('Sequence RLE table is cut short');
    ct.own.setRle(src[p]!);
    ct.use(ct.own, 'rle');
    return 1;
  }
  if (mode === 2) {
    const used = readFseTable(ct.own, src, p, end, ct.maxLog, ct.maxSymbol);
    ct.use(ct.own, 'fse');
    return used;
  }
  if (!ct.table) fault('Repeat_Mode with no previous sequence table');
  return 0;
}

/**
 * Decodes the sequences at src[start..end) and executes them with `lit` into `win` at win.pos.
 * Returns the bytes the block produced.
 */
export function runSequences(t: SequenceTables, src: Uint8Array, view: DataView, start: number, end: number, lit: Literals, win: OutputWindow): number {
  const out = win.buf;
  const litEnd = lit.start + lit.length;
  const op0 = win.pos;
  const limit = op0 + Math.min(131072, win.windowSize);
  let p = start;
  if (p >= end) fault('Sequences section is missing');
  let nbSeq = src[p++]!;
  if (nbSeq >= 128) {
    if (nbSeq === 255) {
      if (p + 2 > end) fault('Sequence count is cut short');
      nbSeq = src[p]! + (src[p + 1]! << 8) + 0x7f00;
      p += 2;
    } else {
      if (p >= end) fault('Sequence count is cut short');
      nbSeq = ((nbSeq - 128) << 8) + src[p++]!;
    }
  }
  let op = op0;
  let litPos = lit.start;
  if (nbSeq > 0) {
    if (p >= end) fault('Sequence modes are cut short');
    const modes = src[p++]!;
    if (modes & 3) fault('Sequence modes have reserved bits set');
    p += selectTable(t.ll, modes >>> 6, src, p, end, PREDEFINED.ll);
    p += selectTable(t.of, (modes >>> 4) & 3, src, p, end, PREDEFINED.of);
    p += selectTable(t.ml, (modes >>> 2) & 3, src, p, end, PREDEFINED.ml);
    if (p >= end) fault('Sequence bitstream is missing');
    op = execute(t, nbSeq, view, p * 8, end, out, win.view, lit.start, litEnd, op0, limit, win.windowSize);
    if (res[0] !== p * 8) fault('Sequence bitstream is not used up exactly');
    litPos = res[1]!;
    t.rep[0] = res[2]!;
    t.rep[1] = res[3]!;
    t.rep[2] = res[4]!;
  } else if (p !== end) {
    fault('Sequences section has bytes after a zero count');
  }
  const rest = litEnd - litPos;
  if (op + rest > limit) fault('Block decodes to more than its maximum size');
  if (rest > 0) out.copyWithin(op, litPos, litEnd);
  op += rest;
  return op - op0;
}

/** Where `execute` left the bit position, the literals and the repeat offsets. */
const res = new Int32Array(5);

// The hot loop, in a function of its own: V8 then optimises it whole after a few blocks instead of
// entering it through on-stack replacement on every call, which deoptimised at the loop's exit.
// Bits are read with 4-byte little-endian loads through a DataView; the block buffer has 16 zero bytes
// on each side, and the check at the top of each sequence keeps every load inside it, however corrupt
// the stream (one sequence reads at most 89 bits).
function execute(
  t: SequenceTables,
  nbSeq: number,
  sv: DataView,
  floor: number,
  end: number,
  out: Buffer,
  ov: DataView,
  litPos: number,
  litEnd: number,
  op: number,
  limit: number,
  winSize: number,
): number {
  const lastByte = sv.getUint8(end - 1);
  if (lastByte === 0) fault('Sequence bitstream has no end marker');
  let pos = (end - 1) * 8 + (31 - Math.clz32(lastByte));
  const L = t.ll,
    O = t.of,
    M = t.ml;
  const llT = L.table!,
    ofT = O.table!,
    mlT = M.table!;
  const llBase = L.vBase,
    llBits = L.vBits,
    llNb = llT.nbBits,
    llNext = llT.baseline;
  const mlBase = M.vBase,
    mlBits = M.vBits,
    mlNb = mlT.nbBits,
    mlNext = mlT.baseline;
  const ofBase = O.vBase,
    ofBits = O.vBits,
    ofNb = ofT.nbBits,
    ofNext = ofT.baseline;
  let r1 = t.rep[0]!,
    r2 = t.rep[1]!,
    r3 = t.rep[2]!;
  let n: number;
  // Initial states: literals length, offset, match length (RFC 8878 3.1.1.3.2.1).
  n = llT.log;
  pos -= n;
  let llS = (sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1);
  n = ofT.log;
  pos -= n;
  let ofS = (sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1);
  n = mlT.log;
  pos -= n;
  let mlS = (sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1);
  for (let s = 0; s < nbSeq; s++) {
    if (pos < floor) fault('Sequence bitstream is shorter than its sequences');
    // Offset extra bits (up to 30: two reads past 24), then match length, then literals length.
    n = ofBits[ofS]!;
    let ofv: number;
    pos -= n;
    if (n <= 24) {
      ofv = ofBase[ofS]! + ((sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1));
    } else {
      const lo = (sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & 0xffff;
      const hp = pos + 16;
      const hi = (sv.getUint32(hp >>> 3, true) >>> (hp & 7)) & ((1 << (n - 16)) - 1);
      ofv = (ofBase[ofS]! + (hi << 16) + lo) | 0;
    }
    n = mlBits[mlS]!;
    pos -= n;
    const ml = mlBase[mlS]! + ((sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1));
    n = llBits[llS]!;
    pos -= n;
    const ll = llBase[llS]! + ((sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1));
    let offset: number;
    if (ofv > 3) {
      offset = ofv - 3;
      r3 = r2;
      r2 = r1;
      r1 = offset;
    } else {
      const idx = ofv - 1 + (ll === 0 ? 1 : 0);
      if (idx === 0) offset = r1;
      else {
        offset = idx === 1 ? r2 : idx === 2 ? r3 : r1 - 1;
        if (idx !== 1) r3 = r2;
        r2 = r1;
        r1 = offset;
      }
    }
    if (s + 1 < nbSeq) {
      // State updates: literals length, match length, offset.
      n = llNb[llS]!;
      pos -= n;
      llS = llNext[llS]! + ((sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1));
      n = mlNb[mlS]!;
      pos -= n;
      mlS = mlNext[mlS]! + ((sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1));
      n = ofNb[ofS]!;
      pos -= n;
      ofS = ofNext[ofS]! + ((sv.getUint32(pos >>> 3, true) >>> (pos & 7)) & ((1 << n) - 1));
    }
    // Execute: literals, then the match.
    if (litPos + ll > litEnd) fault('Sequence takes more literals than the block has');
    if (op + ll + ml > limit) fault('Block decodes to more than its maximum size');
    // Short copies 4 bytes at a time (copyWithin is a runtime call that outweighs ~32 bytes). They may
    // write up to 3 bytes past their end: that is output not yet produced, or the gap before the literals.
    if (ll < 32) {
      for (let k = 0; k < ll; k += 4) ov.setUint32(op + k, ov.getUint32(litPos + k, true), true);
    } else {
      out.copyWithin(op, litPos, litPos + ll);
    }
    op += ll;
    litPos += ll;
    if (offset > op || offset > winSize || offset === 0) fault('Match offset reaches before the window');
    const from = op - offset;
    if (ml >= 32 && offset >= ml) {
      out.copyWithin(op, from, from + ml);
    } else {
      // Overlapping matches (offset < 4) step one byte: each 4-byte store's first byte is then always
      // right, and the rest is rewritten by the next step. One loop for both keeps one feedback site.
      const step = offset < 4 ? 1 : 4;
      for (let k = 0; k < ml; k += step) ov.setUint32(op + k, ov.getUint32(from + k, true), true);
    }
    op += ml;
    // Results are written every iteration so that nothing but the return follows the loop: V8 compiles
    // this loop on-stack before it has ever exited, and code past the exit would have no type feedback.
    res[0] = pos;
    res[1] = litPos;
    res[2] = r1;
    res[3] = r2;
    res[4] = r3;
  }
  return op;
}
