// Where one chunk's range goes while it is fetched: a part file in the state folder (staging.ts), or the
// chunk's own region of a download's output file (output-file.ts). The attempts only need these.
import type { RangeSink } from '../transfer/range-fetch';

export interface ChunkPart extends RangeSink {
  /** Bytes of the chunk this part holds (kept from an earlier run, written, or gathered for the next write). */
  readonly committed: number;
  /** Writes what was gathered: the next range starts right after the bytes on disk. */
  flush(): Promise<void>;
  /** Drops every byte (a prefix another source cannot be trusted to continue). */
  reset(): Promise<void>;
}
