// Keeps the consumer's reading of a chunk while it arrives (see growing-chunk.ts) apart from bytes no other
// source can vouch for. A range fetched from a source not proved the same object as the primary (a mirror
// without a matching strong ETag, no checksum) is read only once staged, so its prefix can still be dropped
// and fetched again elsewhere if that source fails; a chunk the consumer reads is fetched by proved sources only.
import type { ChunkPart } from '../staging/chunk-part';
import type { PartFile } from '../staging/staging';
import type { ChunkNews } from './chunk-news';

export class PartGuard {
  /** Chunks the consumer has begun to read while they arrive. */
  private readonly followed = new Set<number>();
  /** Chunks whose attempt in flight is from an unproved source: not to be read before they are staged. */
  private readonly unproven = new Set<number>();

  constructor(
    /** The parts of ranges in flight, as the consumer finds them. */
    private readonly growing: Map<number, PartFile>,
    private readonly news: ChunkNews,
  ) {}

  /** May the consumer read chunk `index` while it arrives? */
  mayFollow(index: number): boolean {
    return this.growing.has(index) && !this.unproven.has(index);
  }

  /** The consumer begins reading chunk `index` while it arrives. */
  follow(index: number): void {
    this.followed.add(index);
  }

  isFollowed(index: number): boolean {
    return this.followed.has(index);
  }

  /** Says, before the attempt's first byte, whether chunk `index` is being fetched from an unproved source. */
  fetchingUnproven(index: number, unproven: boolean): void {
    if (unproven) this.unproven.add(index);
    else if (this.unproven.delete(index)) this.news.announce(index);
  }

  /** Empties chunk `index`'s part for another source, unless the consumer reads it (false then). */
  async restart(index: number, part: ChunkPart): Promise<boolean> {
    if (this.followed.has(index)) return false;
    // Out of the consumer's sight while it is emptied: it reads a part only through `growing` (a region of a
    // download's output is never there: nothing reads it while it arrives).
    const seen = this.growing.get(index);
    if (seen !== part) {
      await part.reset();
      return true;
    }
    this.growing.delete(index);
    try {
      await part.reset();
    } finally {
      this.growing.set(index, seen);
      this.news.announce(index);
    }
    return true;
  }
}
