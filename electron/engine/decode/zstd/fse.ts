// FSE (tANS) decoding tables (RFC 8878 section 4.1): reading a table description (normalised counts)
// and spreading it into a decoding table. A table keeps the counts it was built from, because that
// description, not the spread table, is what a checkpoint stores for Repeat_Mode.
import { fault } from './fault';

export class FseTable {
  /** Accuracy log: the table has 1 << log states. */
  log = 0;
  readonly symbol: Uint8Array;
  readonly nbBits: Uint8Array;
  readonly baseline: Uint16Array;
  /** The normalised counts this table was built from (-1 = "less than one"), symbols 0..count-1. */
  counts: Int16Array = new Int16Array(0);
  /** Set for an RLE table (a single symbol, zero bits). */
  rle = -1;

  constructor(maxLog: number) {
    const size = 1 << maxLog;
    this.symbol = new Uint8Array(size);
    this.nbBits = new Uint8Array(size);
    this.baseline = new Uint16Array(size);
  }

  /** One symbol for every sequence: a zero-bit table with a single state. */
  setRle(symbol: number): void {
    this.log = 0;
    this.rle = symbol;
    this.counts = new Int16Array(0);
    this.symbol[0] = symbol;
    this.nbBits[0] = 0;
    this.baseline[0] = 0;
  }

  /** Spreads normalised counts into the decoding table (the construction of RFC 8878 4.1.1). */
  build(counts: Int16Array, log: number): void {
    const size = 1 << log;
    this.log = log;
    this.rle = -1;
    this.counts = counts;
    const next = new Uint16Array(counts.length);
    let high = size - 1;
    for (let s = 0; s < counts.length; s++) {
      if (counts[s] === -1) {
        this.symbol[high--] = s;
        next[s] = 1;
      } else {
        next[s] = counts[s]!;
      }
    }
    const step = (size >>> 1) + (size >>> 3) + 3;
    const mask = size - 1;
    let pos = 0;
    for (let s = 0; s < counts.length; s++) {
      const c = counts[s]!;
      for (let i = 0; i < c; i++) {
        this.symbol[pos] = s;
        do pos = (pos + step) & mask;
        while (pos > high);
      }
    }
    if (pos !== 0) fault('FSE table description does not fill its table');
    for (let i = 0; i < size; i++) {
      const s = this.symbol[i]!;
      const state = next[s]!++;
      const nb = log - (31 - Math.clz32(state));
      this.nbBits[i] = nb;
      this.baseline[i] = (state << nb) - size;
    }
  }
}

/**
 * Reads an FSE table description forward from src[start..end); returns the bytes it used.
 * `maxSymbol` is the largest symbol the context allows, `maxLog` its largest accuracy log.
 */
export function readFseTable(table: FseTable, src: Uint8Array, start: number, end: number, maxLog: number, maxSymbol: number): number {
  const limitBits = (end - start) * 8;
  if (limitBits < 8) fault('FSE table description is cut short');
  let bitPos = 0;
  const peek = (n: number): number => {
    const p = start + (bitPos >>> 3);
    const v = (src[p]! | ((src[p + 1] ?? 0) << 8) | ((src[p + 2] ?? 0) << 16)) >>> (bitPos & 7);
    return v & ((1 << n) - 1);
  };
  const log = (src[start]! & 15) + 5;
  if (log > maxLog) fault(`FSE accuracy log ${log} is over the limit of ${maxLog}`);
  bitPos = 4;
  const size = 1 << log;
  const counts = new Int16Array(maxSymbol + 1);
  let remaining = size + 1;
  let sym = 0;
  while (remaining > 1) {
    if (sym > maxSymbol) fault('FSE table description has too many symbols');
    const bits = 32 - Math.clz32(remaining);
    const low = (1 << bits) - 1 - remaining;
    const v = peek(bits);
    const half = v & ((1 << (bits - 1)) - 1);
    let value: number;
    if (half < low) {
      value = half;
      bitPos += bits - 1;
    } else {
      value = v >= 1 << (bits - 1) ? v - low : v;
      bitPos += bits;
    }
    const count = value - 1;
    counts[sym++] = count;
    remaining -= count < 0 ? 1 : count;
    if (count === 0) {
      for (;;) {
        const rep = peek(2);
        bitPos += 2;
        for (let i = 0; i < rep; i++) {
          if (sym > maxSymbol) fault('FSE table description has too many symbols');
          counts[sym++] = 0;
        }
        if (rep !== 3) break;
      }
    }
    if (bitPos > limitBits) fault('FSE table description is cut short');
  }
  if (remaining !== 1) fault('FSE table description is over its total');
  table.build(counts.slice(0, sym), log);
  return (bitPos + 7) >>> 3;
}

const LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const ML_DEFAULT = [
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
];
const OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];

/** The predefined distributions (RFC 8878 3.1.1.3.2.2), built once. */
export const PREDEFINED = {
  ll: predefined(LL_DEFAULT, 6),
  ml: predefined(ML_DEFAULT, 6),
  of: predefined(OF_DEFAULT, 5),
};

function predefined(counts: number[], log: number): FseTable {
  const t = new FseTable(log);
  t.build(Int16Array.from(counts), log);
  return t;
}
