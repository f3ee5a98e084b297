// CRC-32 (the gzip polynomial) that can be continued across calls. Node >= 20.15 and 22.2 have the
// native zlib.crc32; older runtimes get a table-driven fallback so decoding never depends on it.
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, previous: number) => number;

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;

function portableCrc32(data: Uint8Array, previous: number): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

export const crc32: Crc32 = typeof nativeCrc32 === 'function' ? (data, previous) => nativeCrc32(data, previous) : portableCrc32;

export const hasNativeCrc32 = typeof nativeCrc32 === 'function';

/** Exposed so tests can check the fallback against the native one. */
export { portableCrc32 };
