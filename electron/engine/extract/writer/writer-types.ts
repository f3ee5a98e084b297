// The safe writer's public shapes: its options, the state a checkpoint keeps of it, the sink a file's
// data goes through, and the warnings it reports. Kept apart so its parts can share them.
import type { SkippedEntry } from '../extract-types';
import type { ExtractLimits } from '../tar-limits';

export interface EntryWarning extends SkippedEntry {
  /** True when the member was not extracted; false when it was extracted with a change (root stripped, mode masked). */
  skipped: boolean;
}

export interface SafeWriterOptions {
  dest: string;
  limits: ExtractLimits;
  strict?: boolean;
  platform?: NodeJS.Platform;
  onWarning?: (w: EntryWarning) => void;
  /**
   * Remember every file and directory changed since the last `syncCompleted()`, so a checkpoint can make
   * them durable. Off for formats that cannot be checkpointed.
   */
  trackDurability?: boolean;
  /** The state saved with a checkpoint, when this writer continues an extraction after a restart. */
  resumeFrom?: WriterState;
  /**
   * An earlier run of this job extracted into this (then empty) destination and there is no checkpoint to
   * continue from: a regular file already there with the member's size and modification time (stamped only
   * after its last byte was written) is complete, and is kept instead of written again.
   */
  reuseComplete?: boolean;
  /** Threads creating small files at once (default: see CREATION_THREADS in safe-writer.ts). */
  creationThreads?: number;
}

/** What a checkpoint keeps of the writer: counters, reports, and directory metadata still to apply. */
export interface WriterState {
  entries: number;
  bytesWritten: number;
  /** The first skipped (and altered) members, and counts per code of all of them (see entry-tally.ts). */
  skipped: SkippedEntry[];
  warnings: SkippedEntry[];
  skippedCounts?: Record<string, number>;
  warningCounts?: Record<string, number>;
  /** Directory members' relative path, mode and mtime, applied at the very end. */
  dirMeta: Array<[string, number, number]>;
}

/** The data side of one regular file being written. Writes are sequential; `end` closes in the background. */
export interface FileSink {
  readonly path: string;
  /** The file's path relative to the destination, '/'-separated, as the writer resolved it. */
  readonly key: string;
  write(buffers: Buffer[]): Promise<void>;
  /** Moves where the next write lands (a sparse file skips its holes). */
  seek(position: number): void;
  /** Sets the file's length (a sparse file ending in a hole). */
  truncate(size: number): Promise<void>;
  /** Makes the bytes written so far durable (a resume checkpoint needs it). */
  sync(): Promise<void>;
  end(): Promise<void>;
}
