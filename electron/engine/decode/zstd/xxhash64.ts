// xxHash64 (seed 0) with a state that can be written down, for zstd's content checksum. The 32-byte
// stripe loop runs on 32-bit halves: BigInt there costs an allocation per lane per stripe and is several
// times slower; BigInt is kept for the finalisation, which runs once per frame.

const P1H = 0x9e3779b1,
  P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d,
  P2L = 0x27d4eb4f;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;
const M64 = 0xffffffffffffffffn;

/** Saved form: the four lanes as 32-bit halves (high first), the byte count, the unprocessed tail. */
export interface XxHash64State {
  lanes: number[];
  total: number;
  tail: string;
}

// The primes' 16-bit halves of their low words, for the inlined 32x32 -> 64 multiplies below.
const P2L0 = P2L & 0xffff,
  P2L1 = P2L >>> 16;
const P1L0 = P1L & 0xffff,
  P1L1 = P1L >>> 16;

export class XxHash64 {
  private readonly lanes = new Uint32Array(8);
  private total = 0;
  private readonly tail = new Uint8Array(32);
  private tailLen = 0;

  constructor(saved?: XxHash64State) {
    if (saved) {
      this.lanes.set(saved.lanes);
      this.total = saved.total;
      const t = Buffer.from(saved.tail, 'base64');
      this.tail.set(t);
      this.tailLen = t.length;
    } else {
      const s = [P1 + P2, P2, 0n, (0n - P1) & M64];
      for (let i = 0; i < 4; i++) {
        const v = s[i]! & M64;
        this.lanes[2 * i] = Number(v >> 32n);
        this.lanes[2 * i + 1] = Number(v & 0xffffffffn);
      }
    }
  }

  save(): XxHash64State {
    return { lanes: Array.from(this.lanes), total: this.total, tail: Buffer.from(this.tail.subarray(0, this.tailLen)).toString('base64') };
  }

  update(data: Uint8Array, start: number, end: number): void {
    this.total += end - start;
    let p = start;
    if (this.tailLen > 0) {
      const take = Math.min(32 - this.tailLen, end - p);
      this.tail.set(data.subarray(p, p + take), this.tailLen);
      this.tailLen += take;
      p += take;
      if (this.tailLen < 32) return;
      this.stripes(this.tail, 0, 32);
      this.tailLen = 0;
    }
    const whole = p + ((end - p) & ~31);
    if (whole > p) this.stripes(data, p, whole);
    if (end > whole) {
      this.tail.set(data.subarray(whole, end), 0);
      this.tailLen = end - whole;
    }
  }

  // One xxh64 round per lane per 8 bytes: acc = rotl(acc + input * P2, 31) * P1, mod 2^64, on 32-bit halves.
  // A 64-bit product's low word is imul; its high word is the 32x32 high part (16-bit pieces, exact in
  // doubles, and `>>> 16` is exact on them since each stays below 2^32) plus the two cross imuls.
  private stripes(d: Uint8Array, start: number, end: number): void {
    const L = this.lanes;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let lane = 0; lane < 4; lane++) {
      let h = L[2 * lane]!,
        l = L[2 * lane + 1]!;
      for (let p = start + lane * 8; p < end; p += 32) {
        const il = dv.getUint32(p, true);
        const ih = dv.getUint32(p + 4, true);
        // input * P2
        let a0 = il & 0xffff,
          a1 = il >>> 16;
        let w0 = a0 * P2L0;
        let t = a1 * P2L0 + (w0 >>> 16);
        let t2 = a0 * P2L1 + (t & 0xffff);
        const ph = (a1 * P2L1 + (t >>> 16) + (t2 >>> 16) + Math.imul(ih, P2L) + Math.imul(il, P2H)) | 0;
        const pl = Math.imul(il, P2L) >>> 0;
        // acc += product
        const sl = l + pl;
        l = sl >>> 0;
        h = (h + ph + (sl > 0xffffffff ? 1 : 0)) | 0;
        // rotl 31 (the high word may be held signed: only its bits matter)
        const nh = (h << 31) | (l >>> 1);
        const nl = (l << 31) | (h >>> 1);
        // * P1
        a0 = nl & 0xffff;
        a1 = nl >>> 16;
        w0 = a0 * P1L0;
        t = a1 * P1L0 + (w0 >>> 16);
        t2 = a0 * P1L1 + (t & 0xffff);
        h = (a1 * P1L1 + (t >>> 16) + (t2 >>> 16) + Math.imul(nh, P1L) + Math.imul(nl, P1H)) | 0;
        l = Math.imul(nl, P1L) >>> 0;
      }
      L[2 * lane] = h;
      L[2 * lane + 1] = l;
    }
  }

  /** The 64-bit digest of everything fed so far (the state is left as it is). */
  digest(): bigint {
    const L = this.lanes;
    const lane = (i: number): bigint => (BigInt(L[2 * i]!) << 32n) | BigInt(L[2 * i + 1]!);
    let h: bigint;
    if (this.total >= 32) {
      const v = [lane(0), lane(1), lane(2), lane(3)];
      h = (rotl(v[0]!, 1n) + rotl(v[1]!, 7n) + rotl(v[2]!, 12n) + rotl(v[3]!, 18n)) & M64;
      for (const x of v) {
        h ^= round(0n, x);
        h = (h * P1 + P4) & M64;
      }
    } else {
      h = P5;
    }
    h = (h + BigInt(this.total)) & M64;
    const t = this.tail;
    let p = 0;
    const n = this.tailLen;
    for (; p + 8 <= n; p += 8) {
      h ^= round(0n, u64(t, p));
      h = (rotl(h, 27n) * P1 + P4) & M64;
    }
    if (p + 4 <= n) {
      const k = BigInt((t[p]! | (t[p + 1]! << 8) | (t[p + 2]! << 16) | (t[p + 3]! << 24)) >>> 0);
      h ^= (k * P1) & M64;
      h = (rotl(h, 23n) * P2 + P3) & M64;
      p += 4;
    }
    for (; p < n; p++) {
      h ^= (BigInt(t[p]!) * P5) & M64;
      h = (rotl(h, 11n) * P1) & M64;
    }
    h ^= h >> 33n;
    h = (h * P2) & M64;
    h ^= h >> 29n;
    h = (h * P3) & M64;
    h ^= h >> 32n;
    return h;
  }
}

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & M64;
}

function round(acc: bigint, input: bigint): bigint {
  acc = (acc + input * P2) & M64;
  return (rotl(acc, 31n) * P1) & M64;
}

function u64(t: Uint8Array, p: number): bigint {
  const lo = (t[p]! | (t[p + 1]! << 8) | (t[p + 2]! << 16) | (t[p + 3]! << 24)) >>> 0;
  const hi = (t[p + 4]! | (t[p + 5]! << 8) | (t[p + 6]! << 16) | (t[p + 7]! << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
