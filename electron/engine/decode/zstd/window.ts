// The frame's output history: one flat buffer that blocks decode into at `pos`. Matches reach back at most
// windowSize bytes, so when the next block might not fit, the newest windowSize bytes slide to the front.
// The slack past the window bounds how often that copy runs (a fraction of a memcpy per output byte).
// The buffer's last MAX_BLOCK bytes hold the current block's literals, so that every copy a sequence
// makes is a copyWithin inside this one buffer.
import { MAX_BLOCK } from './literals';

const MIN_SLACK = 1024 * 1024;
const MAX_SLACK = 32 * 1024 * 1024;
/** Room for the short copies' overshoot (up to 3 bytes) before the literals and past the buffer's end. */
const GAP = 32;

export class OutputWindow {
  buf: Buffer = Buffer.alloc(0);
  /** The same bytes, for the 4-byte copies of short matches. */
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Next byte to write. */
  pos = 0;
  /** Start of the bytes not yet handed out. */
  emitted = 0;
  windowSize = 0;
  /** Where the current block's literals are decoded: the tail of `buf`. */
  litAt = 0;

  /** Sizes the buffer for a frame: the window plus slack, or the whole frame when it is known and smaller. */
  reset(windowSize: number, contentSize: number | null): void {
    this.windowSize = windowSize;
    const slack = Math.min(MAX_SLACK, Math.max(MIN_SLACK, windowSize));
    let want = windowSize + slack + MAX_BLOCK;
    if (contentSize !== null && contentSize + MAX_BLOCK < want) want = contentSize + MAX_BLOCK;
    want += GAP + MAX_BLOCK + GAP;
    if (this.buf.length < want || this.buf.length > 2 * want + MAX_SLACK) {
      // Not from the pool: a buffer of its own, so the DataView spans exactly it.
      this.buf = Buffer.from(new ArrayBuffer(want));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
    this.litAt = this.buf.length - MAX_BLOCK - GAP;
    this.pos = 0;
    this.emitted = 0;
  }

  /** Makes room for one more block; `flush` receives the bytes not yet handed out before they move. */
  reserve(flush: () => void): void {
    if (this.pos + MAX_BLOCK + GAP <= this.litAt) return;
    flush();
    const keep = Math.min(this.windowSize, this.pos);
    this.buf.copyWithin(0, this.pos - keep, this.pos);
    this.pos = keep;
    this.emitted = keep;
  }

  /** A copy of the bytes written since the last call (the buffer is reused, so the caller gets its own). */
  take(): Buffer | null {
    if (this.pos === this.emitted) return null;
    const out = Buffer.allocUnsafe(this.pos - this.emitted);
    this.buf.copy(out, 0, this.emitted, this.pos);
    this.emitted = this.pos;
    return out;
  }

  /** The history a resumed decoder needs: the newest min(windowSize, bytes in this frame) bytes. */
  history(): Buffer {
    return this.buf.subarray(Math.max(0, this.pos - this.windowSize), this.pos);
  }

  /** Restores saved history as already handed out. */
  restore(history: Buffer): void {
    this.buf.set(history, 0);
    this.pos = history.length;
    this.emitted = history.length;
  }
}
