// Room for a member before it is written: a file larger than the free space is refused up front, as a
// clear disk-full pause, not a half-written file. The free space is read once and counted down, read again
// only when a member does not fit (statfs per member would cost a round trip each).
import { DiskFullError } from '../../errors';
import { bytePathFs as fsp } from '../byte-path-fs';

export class FreeSpace {
  private freeBytes = Number.POSITIVE_INFINITY;

  constructor(private readonly root: string) {}

  /** Counts `size` bytes as used; throws DiskFullError (naming `abs`) when they are not free. */
  async reserve(size: number, abs: string): Promise<void> {
    if (size <= this.freeBytes) {
      this.freeBytes -= size;
      return;
    }
    await this.refresh();
    if (size > this.freeBytes) throw new DiskFullError(abs, size - this.freeBytes);
    this.freeBytes -= size;
  }

  /** Reads the free space again (unknown, so unlimited, where the runtime has no statfs or it fails). */
  async refresh(): Promise<void> {
    const statfs = (fsp as { statfs?: (p: string) => Promise<{ bavail: number; bsize: number }> }).statfs;
    if (!statfs) return;
    try {
      const s = await statfs(this.root);
      this.freeBytes = s.bavail * s.bsize;
    } catch {
      this.freeBytes = Number.POSITIVE_INFINITY;
    }
  }
}
