// The sparse maps GNU tar writes, in each of its formats: old GNU (type `S`, four regions in the header and
// 21 per extension block), pax 0.0 (repeated GNU.sparse.offset / numbytes), pax 0.1 (GNU.sparse.map) and
// pax 1.0 (the map as decimal lines at the start of the member's data, padded to a block; bsdtar writes it
// too). A map is checked before a byte is written: regions in order, inside the real size, and adding up to
// the data the archive holds. The member's framing never depends on it (the size field decides that).
import { ArchiveError } from '../errors';
import { lastValue, paxInteger } from './pax';

export interface SparseInfo {
  /** The file's real size (holes included). */
  realSize: number;
  /** (offset, length) of each data region, in file order. Empty until a 1.0 map has been read. */
  regions: Array<[number, number]>;
  /** pax 1.0: the map is the first `mapBytes` bytes of the member's data (0 until it has been read). */
  mapInData: boolean;
  mapBytes: number;
  /** Bytes of the member's data in the archive (what the disk needs, holes cost nothing). */
  archiveBytes: number;
}

const SPARSE_KEYS = ['GNU.sparse.size', 'GNU.sparse.numblocks', 'GNU.sparse.map', 'GNU.sparse.realsize', 'GNU.sparse.major'];

/** The sparse description in a member's pax records, or null when it is not a sparse member. */
export function sparseFromPax(records: Array<[string, Buffer]>, archiveBytes: number, where: string): SparseInfo | null {
  if (!records.some(([k]) => SPARSE_KEYS.includes(k))) return null;
  const bad = (what: string) => corrupt(`The pax sparse header of ${where} ${what}.`);
  const major = paxInteger(lastValue(records, 'GNU.sparse.major'));
  const minor = paxInteger(lastValue(records, 'GNU.sparse.minor'));
  const realSize = paxInteger(lastValue(records, 'GNU.sparse.realsize') ?? lastValue(records, 'GNU.sparse.size'));
  if (realSize === null) throw bad('has no valid real size');
  if (major !== null) {
    if (major !== 1 || (minor ?? 0) !== 0) throw bad(`has version ${major}.${minor ?? 0}, which GNU tar does not define`);
    return { realSize, regions: [], mapInData: true, mapBytes: 0, archiveBytes };
  }
  const regions: Array<[number, number]> = [];
  const map = lastValue(records, 'GNU.sparse.map');
  if (map !== undefined) {
    // 0.1: "offset,size,offset,size,..."
    const s = map.toString('latin1');
    const nums = s === '' ? [] : s.split(',').map((x) => (/^[0-9]+$/.test(x) ? Number(x) : Number.NaN));
    if (nums.length % 2 !== 0 || nums.some((n) => !Number.isSafeInteger(n))) throw bad('has a malformed GNU.sparse.map');
    for (let i = 0; i < nums.length; i += 2) regions.push([nums[i]!, nums[i + 1]!]);
  } else {
    // 0.0: offset / numbytes pairs in order.
    let offset: number | null = null;
    for (const [k, v] of records) {
      if (k === 'GNU.sparse.offset') {
        if (offset !== null) throw bad('has an offset without its size');
        offset = paxInteger(v);
        if (offset === null) throw bad('has a malformed GNU.sparse.offset');
      } else if (k === 'GNU.sparse.numbytes') {
        const n = paxInteger(v);
        if (offset === null || n === null) throw bad('has a malformed GNU.sparse.numbytes');
        regions.push([offset, n]);
        offset = null;
      }
    }
    const declared = paxInteger(lastValue(records, 'GNU.sparse.numblocks'));
    if (declared !== null && declared !== regions.length) throw bad(`declares ${declared} regions but lists ${regions.length}`);
  }
  return { realSize, regions, mapInData: false, mapBytes: 0, archiveBytes };
}

/** Checks a map against the data the member holds (for 1.0, after the map itself). */
export function checkSparseMap(info: SparseInfo, dataBytes: number, where: string): void {
  let end = 0;
  let total = 0;
  for (const [offset, length] of info.regions) {
    if (offset < end || offset + length > info.realSize) {
      throw corrupt(`The sparse map of ${where} has a region (${offset}+${length}) out of order or past the real size ${info.realSize}.`);
    }
    end = offset + length;
    total += length;
  }
  if (total !== dataBytes) {
    throw corrupt(`The sparse map of ${where} describes ${total} data bytes, but the archive holds ${dataBytes}.`);
  }
}

/** Reads a pax 1.0 map from the start of the member's data, a piece at a time. */
export class DataMapReader {
  private text = '';
  private consumed = 0;
  private numbers: number[] = [];
  private count = -1;
  private textDone = false;

  constructor(
    private readonly maxBytes: number,
    private readonly where: string,
  ) {}

  /**
   * Takes bytes from `buf`; returns how many belonged to the map (its block padding included) and, once
   * the map is complete, its regions and byte length.
   */
  take(buf: Buffer): { used: number; done: { regions: Array<[number, number]>; mapBytes: number } | null } {
    let used = 0;
    while (!this.textDone && used < buf.length) {
      const nl = buf.indexOf(0x0a, used);
      const stop = nl < 0 ? buf.length : nl;
      this.text += buf.toString('latin1', used, stop);
      this.consumed += stop - used;
      used = stop;
      if (this.consumed > this.maxBytes) throw corrupt(`The sparse map of ${this.where} is longer than ${this.maxBytes} bytes.`);
      if (nl < 0) break;
      used++;
      this.consumed++;
      if (!/^[0-9]+$/.test(this.text)) throw corrupt(`The sparse map of ${this.where} holds "${this.text.slice(0, 40)}" where a number belongs.`);
      const n = Number(this.text);
      this.text = '';
      if (!Number.isSafeInteger(n)) throw corrupt(`The sparse map of ${this.where} holds a number too large.`);
      if (this.count < 0) this.count = n;
      else this.numbers.push(n);
      if (this.numbers.length === 2 * this.count) this.textDone = true;
    }
    if (!this.textDone) return { used, done: null };
    const mapBytes = Math.ceil(this.consumed / 512) * 512;
    const pad = Math.min(mapBytes - this.consumed, buf.length - used);
    used += pad;
    this.consumed += pad;
    if (this.consumed < mapBytes) return { used, done: null };
    const regions: Array<[number, number]> = [];
    for (let i = 0; i < this.numbers.length; i += 2) regions.push([this.numbers[i]!, this.numbers[i + 1]!]);
    return { used, done: { regions, mapBytes } };
  }
}

function corrupt(message: string): ArchiveError {
  return new ArchiveError('E_ARCHIVE_CORRUPT', message);
}
