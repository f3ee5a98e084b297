// Where lz4 blocks are decoded: one large buffer, output appended after the history a linked block may reach
// back into. Output is handed out as views that are never written again: a full arena is replaced by a new
// one that starts with the frame's last 64 KiB (linked blocks), never reused.
import { DICTIONARY_BYTES } from './frame';

/** Arenas hold at least this much output: fewer allocations and dictionary copies for small blocks. */
const MIN_ARENA_BYTES = 8 * 1024 * 1024;

/** Where handed-out views go (the decoder's output list). */
interface Sink {
  push(view: Buffer): unknown;
}

export class OutputArena {
  buf: Buffer | null = null;
  /** Where the next output byte goes. */
  pos = 0;
  /** Start of the bytes a linked block may reach back into (the current frame's, in this arena). */
  historyStart = 0;
  /** Start of the output not yet handed out. */
  private outStart = 0;

  /** A new frame: nothing before this point is its history. */
  startFrame(): void {
    this.historyStart = this.pos;
  }

  /** Room for `need` more bytes; `keepHistory` carries the frame's last 64 KiB into a new arena. */
  ensure(need: number, keepHistory: boolean, out: Sink): void {
    if (this.buf && this.pos + need <= this.buf.length) return;
    this.flush(out);
    const keep = keepHistory ? Math.min(DICTIONARY_BYTES, this.pos - this.historyStart) : 0;
    const next = Buffer.allocUnsafeSlow(Math.max(MIN_ARENA_BYTES, DICTIONARY_BYTES + 2 * need));
    if (keep > 0) this.buf!.copy(next, 0, this.pos - keep, this.pos);
    this.buf = next;
    this.pos = this.outStart = keep;
    this.historyStart = 0;
  }

  /** Hands out what was decoded since the last flush, as one view. */
  flush(out: Sink): void {
    if (this.buf && this.pos > this.outStart) {
      out.push(this.buf.subarray(this.outStart, this.pos));
      this.outStart = this.pos;
    }
  }

  /** A copy of the frame's last <= 64 KiB of output. */
  dictionary(): Buffer {
    const keep = Math.min(DICTIONARY_BYTES, this.pos - this.historyStart);
    return Buffer.from(this.buf ? this.buf.subarray(this.pos - keep, this.pos) : Buffer.alloc(0));
  }

  /** A resumed frame: its dictionary is the history, and room for blocks of `blockMax` follows. */
  restore(dictionary: Buffer, blockMax: number): void {
    this.buf = Buffer.allocUnsafeSlow(Math.max(MIN_ARENA_BYTES, DICTIONARY_BYTES + 2 * blockMax));
    dictionary.copy(this.buf, 0);
    this.pos = this.outStart = dictionary.length;
    this.historyStart = 0;
  }

  release(): void {
    this.buf = null;
  }
}
