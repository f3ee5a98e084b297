// Writes a sparse member: its data (after a pax 1.0 map, read first) goes to the offsets of the map's
// regions; nothing is written for the holes, so the file system keeps them as holes, and the file is cut
// to its real size at the end (a trailing hole is a truncate, not zeros). Resumable: `consumed` (member
// data bytes taken) and the map say where the file stands, see `fileLength`.
import { ArchiveError } from '../errors';
import type { EntryHeader } from './extract-types';
import { checkSparseMap, DataMapReader, type SparseInfo } from './sparse-map';

/** A file written at chosen offsets (the safe writer's sink). */
export interface PositionedSink {
  seek(position: number): void;
  write(buffers: Buffer[]): Promise<void>;
  truncate(size: number): Promise<void>;
}

export class SparseRouter {
  private mapReader: DataMapReader | null;
  /** Member data bytes taken so far (the 1.0 map included). */
  consumed: number;
  private region = 0;
  private inRegion = 0;

  constructor(
    private readonly entry: EntryHeader & { sparse: SparseInfo },
    /** The member's data size in the archive (the 1.0 map included). */
    private readonly dataSize: number,
    maxMapBytes: number,
    resumeAt = 0,
  ) {
    const info = entry.sparse;
    this.consumed = resumeAt;
    this.mapReader = info.mapInData && resumeAt === 0 ? new DataMapReader(maxMapBytes, `"${entry.name}"`) : null;
    if (!this.mapReader) {
      checkSparseMap(info, dataSize - info.mapBytes, `"${entry.name}"`);
      this.locate(resumeAt - info.mapBytes);
    }
  }

  /** The map is known (a checkpoint may be taken: the entry then carries it). */
  get mapKnown(): boolean {
    return this.mapReader === null;
  }

  /**
   * Routes member data to the file: a list of writes (file offset, bytes) in order. Throws when a 1.0 map
   * is malformed or does not match the data.
   */
  take(buf: Buffer): Array<{ at: number; data: Buffer }> {
    let used = 0;
    if (this.mapReader) {
      const r = this.mapReader.take(buf);
      used = r.used;
      this.consumed += r.used;
      if (r.done) {
        this.mapReader = null;
        this.entry.sparse.regions = r.done.regions;
        this.entry.sparse.mapBytes = r.done.mapBytes;
        checkSparseMap(this.entry.sparse, this.dataSize - r.done.mapBytes, `"${this.entry.name}"`);
      }
    }
    const out: Array<{ at: number; data: Buffer }> = [];
    const regions = this.entry.sparse.regions;
    while (used < buf.length) {
      while (this.region < regions.length && this.inRegion === regions[this.region]![1]) {
        this.region++;
        this.inRegion = 0;
      }
      if (this.region >= regions.length) {
        throw new ArchiveError('E_ARCHIVE_CORRUPT', `"${this.entry.name}" holds more data than its sparse map describes.`);
      }
      const [offset, length] = regions[this.region]!;
      const n = Math.min(length - this.inRegion, buf.length - used);
      out.push({ at: offset + this.inRegion, data: buf.subarray(used, used + n) });
      this.inRegion += n;
      used += n;
      this.consumed += n;
    }
    return out;
  }

  /** Bytes of the file that are final once the data taken so far is written (a resume truncates to it). */
  fileLength(): number {
    const regions = this.entry.sparse.regions;
    if (this.mapReader) return 0;
    if (this.inRegion > 0) return regions[this.region]![0] + this.inRegion;
    for (let i = this.region - 1; i >= 0; i--) if (regions[i]![1] > 0) return regions[i]![0] + regions[i]![1];
    return 0;
  }

  /** Positions the router `packed` bytes into the regions' data (resume). */
  private locate(packed: number): void {
    let left = packed;
    const regions = this.entry.sparse.regions;
    this.region = 0;
    this.inRegion = 0;
    while (left > 0 && this.region < regions.length) {
      const n = Math.min(left, regions[this.region]![1]);
      left -= n;
      if (n === regions[this.region]![1]) this.region++;
      else this.inRegion = n;
    }
  }
}
