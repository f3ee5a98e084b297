// What carries from one block to the next inside a frame: the Huffman table (treeless literals), the three
// sequence tables (Repeat_Mode), the repeat offsets, the history window and the running checksum. Also its
// saved form, compact: table descriptions (weights, normalised counts), not the spread tables.
import { FseTable, PREDEFINED } from './fse';
import { HuffmanTable } from './huffman';
import { MAX_BLOCK, readLiterals, type Literals } from './literals';
import { runSequences, SequenceTables, type CodeTable, type TableKind } from './sequences';
import { OutputWindow } from './window';
import { XxHash64, type XxHash64State } from './xxhash64';

const PAD = 16;

export type SavedTable = null | { mode: 'predefined' } | { mode: 'rle'; symbol: number } | { mode: 'fse'; log: number; counts: number[] };

export interface SavedBlockState {
  /** Huffman weights of symbols 0..255, base64; null before the frame's first Huffman tree. */
  huffman: string | null;
  tables: Record<TableKind, SavedTable>;
  rep: [number, number, number];
  /** The newest min(windowSize, bytes of this frame) bytes of output, base64. */
  history: string;
  xxh64: XxHash64State | null;
}

export class BlockState {
  readonly huf = new HuffmanTable();
  readonly seq = new SequenceTables();
  readonly win = new OutputWindow();
  xxh: XxHash64 | null = null;
  private readonly blockBuf = Buffer.from(new ArrayBuffer(PAD + MAX_BLOCK + PAD));
  private readonly blockView = new DataView(this.blockBuf.buffer);
  private readonly lit: Literals = { src: Buffer.alloc(0), start: 0, length: 0, used: 0 };

  /** A new frame: fresh tables, offsets and checksum; the window sized for it. */
  startFrame(windowSize: number, contentSize: number | null, checksum: boolean): void {
    this.huf.present = false;
    this.seq.reset();
    this.win.reset(windowSize, contentSize);
    this.xxh = checksum ? new XxHash64() : null;
  }

  /** Decodes one compressed block at src[start..end) into the window; returns the bytes it produced. */
  compressed(src: Buffer, start: number, end: number): number {
    // The block is copied between zero pads into a buffer of its own: bit positions stay small integers,
    // and the bit readers' 4-byte loads stay inside it.
    const blk = this.blockBuf;
    const len = end - start;
    src.copy(blk, PAD, start, end);
    blk.fill(0, PAD + len, PAD + len + PAD);
    readLiterals(blk, PAD, PAD + len, this.huf, this.win.buf, this.win.litAt, this.lit);
    const n = runSequences(this.seq, blk, this.blockView, PAD + this.lit.used, PAD + len, this.lit, this.win);
    this.commit(n);
    return n;
  }

  raw(src: Buffer, start: number, size: number): void {
    src.copy(this.win.buf, this.win.pos, start, start + size);
    this.commit(size);
  }

  rle(byte: number, size: number): void {
    this.win.buf.fill(byte, this.win.pos, this.win.pos + size);
    this.commit(size);
  }

  private commit(n: number): void {
    const w = this.win;
    if (this.xxh) this.xxh.update(w.buf, w.pos, w.pos + n);
    w.pos += n;
  }

  save(): SavedBlockState {
    const s = this.seq;
    return {
      huffman: this.huf.present ? Buffer.from(this.huf.weights).toString('base64') : null,
      tables: { ll: saveTable(s.ll), of: saveTable(s.of), ml: saveTable(s.ml) },
      rep: [s.rep[0]!, s.rep[1]!, s.rep[2]!],
      history: this.win.history().toString('base64'),
      xxh64: this.xxh ? this.xxh.save() : null,
    };
  }

  /** Restores a saved state into a frame already started with the same header facts. */
  restore(saved: SavedBlockState): void {
    if (saved.huffman !== null) this.huf.restore(Buffer.from(saved.huffman, 'base64'));
    restoreTable(this.seq.ll, saved.tables.ll, PREDEFINED.ll);
    restoreTable(this.seq.of, saved.tables.of, PREDEFINED.of);
    restoreTable(this.seq.ml, saved.tables.ml, PREDEFINED.ml);
    this.seq.rep.set(saved.rep);
    this.win.restore(Buffer.from(saved.history, 'base64'));
    this.xxh = saved.xxh64 ? new XxHash64(saved.xxh64) : null;
  }
}

function saveTable(ct: CodeTable): SavedTable {
  if (!ct.table || !ct.mode) return null;
  if (ct.mode === 'predefined') return { mode: 'predefined' };
  if (ct.mode === 'rle') return { mode: 'rle', symbol: ct.table.rle };
  return { mode: 'fse', log: ct.table.log, counts: Array.from(ct.table.counts) };
}

function restoreTable(ct: CodeTable, saved: SavedTable, predefined: FseTable): void {
  if (saved === null) return ct.reset();
  if (saved.mode === 'predefined') return ct.use(predefined, 'predefined');
  if (saved.mode === 'rle') {
    ct.own.setRle(saved.symbol);
    return ct.use(ct.own, 'rle');
  }
  ct.own.build(Int16Array.from(saved.counts), saved.log);
  ct.use(ct.own, 'fse');
}
