// xxHash32 (the checksum of lz4 frames: header, blocks, content), streaming, with a state that can be
// written down and restored: four lane accumulators, the seed, the total length and up to 15 buffered
// bytes. Node's crypto has no xxHash, and no package saves its state, hence our own.

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

/** The saved state: plain JSON. */
export interface XxHash32State {
  seed: number;
  /** The four lane accumulators. */
  v: [number, number, number, number];
  /** Bytes hashed so far (a safe integer; only its low 32 bits enter the digest). */
  total: number;
  /** Base64 of the 0..15 bytes not yet folded into the lanes. */
  buffered: string;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function u32le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

export class XxHash32 {
  private seed: number;
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private total = 0;
  private readonly buf = new Uint8Array(16);
  private bufLen = 0;

  constructor(seed = 0) {
    this.seed = seed >>> 0;
    this.v1 = (this.seed + P1 + P2) | 0;
    this.v2 = (this.seed + P2) | 0;
    this.v3 = this.seed | 0;
    this.v4 = (this.seed - P1) | 0;
  }

  static restore(s: XxHash32State): XxHash32 {
    const h = new XxHash32(s.seed);
    [h.v1, h.v2, h.v3, h.v4] = s.v.map((x) => x | 0) as [number, number, number, number];
    h.total = s.total;
    const b = Buffer.from(s.buffered, 'base64');
    if (b.length > 15 || b.length !== s.total % 16) throw new Error('xxHash32 state: the buffered bytes do not match the total length');
    h.buf.set(b);
    h.bufLen = b.length;
    return h;
  }

  save(): XxHash32State {
    return {
      seed: this.seed,
      v: [this.v1 >>> 0, this.v2 >>> 0, this.v3 >>> 0, this.v4 >>> 0],
      total: this.total,
      buffered: Buffer.from(this.buf.subarray(0, this.bufLen)).toString('base64'),
    };
  }

  update(data: Uint8Array, start = 0, end = data.length): this {
    let i = start;
    this.total += end - start;
    if (this.bufLen > 0) {
      const n = Math.min(16 - this.bufLen, end - i);
      this.buf.set(data.subarray(i, i + n), this.bufLen);
      this.bufLen += n;
      i += n;
      if (this.bufLen < 16) return this;
      this.stripes(this.buf, 0, 16);
      this.bufLen = 0;
    }
    const stripesEnd = i + ((end - i) & ~15);
    if (stripesEnd > i) this.stripes(data, i, stripesEnd);
    if (stripesEnd < end) {
      this.buf.set(data.subarray(stripesEnd, end), 0);
      this.bufLen = end - stripesEnd;
    }
    return this;
  }

  /** The digest of everything so far, as an unsigned 32-bit number; the state is unchanged. */
  digest(): number {
    let h: number;
    if (this.total >= 16) h = (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0;
    else h = (this.seed + P5) | 0;
    h = (h + this.total) | 0;
    const b = this.buf;
    let i = 0;
    for (; i + 4 <= this.bufLen; i += 4) h = Math.imul(rotl((h + Math.imul(u32le(b, i), P3)) | 0, 17), P4);
    for (; i < this.bufLen; i++) h = Math.imul(rotl((h + Math.imul(b[i]!, P5)) | 0, 11), P1);
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }

  /**
   * Folds whole 16-byte stripes [i, end) into the lanes; locals keep the loop in registers. Words are read
   * through an Int32Array when aligned, else a DataView: both about twice as fast as four byte loads.
   */
  private stripes(b: Uint8Array, i: number, end: number): void {
    let v1 = this.v1;
    let v2 = this.v2;
    let v3 = this.v3;
    let v4 = this.v4;
    if (LITTLE_ENDIAN && (b.byteOffset + i) % 4 === 0) {
      const w = new Int32Array(b.buffer, b.byteOffset + i, (end - i) >> 2);
      for (let k = 0; k < w.length; k += 4) {
        v1 = Math.imul(rotl((v1 + Math.imul(w[k]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[k + 1]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[k + 2]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[k + 3]!, P2)) | 0, 13), P1);
      }
    } else {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (; i < end; i += 16) {
        v1 = Math.imul(rotl((v1 + Math.imul(dv.getInt32(i, true), P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(dv.getInt32(i + 4, true), P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(dv.getInt32(i + 8, true), P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(dv.getInt32(i + 12, true), P2)) | 0, 13), P1);
      }
    }
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
    this.v4 = v4;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** xxHash32 of one buffer (range). */
export function xxhash32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  return new XxHash32(seed).update(data, start, end).digest();
}
