// What an earlier run left in the state folder, and how much of it this run may use: staged chunks only where
// the journal vouches for their length and CRC, parts only as far as their journaled prefix, nothing outside
// the window from the resume point (it would only cost disk).
import { promises as fsp } from 'node:fs';
import type { StagedRecord } from '../staging/journal';
import type { StagingArea } from '../staging/staging';
import { chunkIndexOf } from '../state/layout';
import type { JobEventInput } from './run-context';

export class KeptChunks {
  private readonly stagedRecords = new Map<number, { length: number; crc: number }>();
  /** Parts of an earlier run that failed verification in this run. */
  private dropped = 0;

  constructor(private readonly emit: (event: JobEventInput) => void) {}

  /** A chunk staged now or by an earlier run: its journal record. */
  noteStaged(r: Pick<StagedRecord, 'index' | 'length' | 'crc'>): void {
    this.stagedRecords.set(r.index, { length: r.length, crc: r.crc });
  }

  /** A chunk staged by an earlier run is used only if the journal vouches for its length and CRC. */
  async reuseStaged(staging: StagingArea, index: number, length: number): Promise<boolean> {
    const onDisk = await staging.stagedCrc(index);
    if (!onDisk) return false;
    const recorded = this.stagedRecords.get(index);
    if (recorded && recorded.length === length && onDisk.length === length && recorded.crc === onDisk.crc) return true;
    await staging.remove(index);
    this.emit({
      type: 'warning',
      code: 'E_STAGED_CHUNK_INVALID',
      message: `Staged chunk ${index} did not match its journal record (${recorded ? 'CRC or length differs' : 'no record'}); it is fetched again.`,
    });
    return false;
  }

  /** A part's bytes matched its journal only in part (see part-verify.ts). */
  partDropped(index: number, kept: number, had: number): void {
    this.dropped++;
    this.emit({
      type: 'warning',
      code: 'E_PART_INVALID',
      message:
        `Chunk ${index}'s partial download from an earlier run matched its journal only for ${kept} of its ${had} bytes (after a power loss a disk may return zeros for data it never wrote back); the rest is fetched again.` +
        (this.dropped >= 3 ? ' Kept data keeps failing its checks: if this job fails or keeps doing this, run it with --restart.' : ''),
    });
  }

  /** Chunk files this run will not reach again (before the resume point, or past its window). */
  async discardStale(staging: StagingArea, startChunk: number, window: number): Promise<void> {
    const keepUpTo = startChunk + window;
    for (const name of await fsp.readdir(staging.dir)) {
      const index = chunkIndexOf(name);
      if (index !== null && (index < startChunk || index >= keepUpTo)) await staging.remove(index);
    }
  }
}
