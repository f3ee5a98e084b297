// Types shared by the extraction stages (format detection, decompression, tar framing, safe writer).
import type { SparseInfo } from './sparse-map';

export type ExtractFormat = 'tar' | 'gzip' | 'lz4' | 'zstd';

/** Why an entry was skipped (or, for `ABSOLUTE_PATH` and `MODE_MASKED`, changed while being written). */
export type EntryWarningCode =
  | 'ABSOLUTE_PATH'
  | 'PATH_TRAVERSAL'
  | 'BAD_NAME'
  | 'DEPTH_LIMIT'
  | 'NAME_TOO_LONG'
  | 'THROUGH_LINK'
  | 'LINK_ESCAPE'
  | 'HARDLINK_TARGET'
  | 'UNSUPPORTED_TYPE'
  | 'NAME_COLLISION'
  | 'EXISTING_DIRECTORY'
  | 'MODE_MASKED'
  /** Archive-level findings (the member is still extracted, or the archive ends as GNU tar ends it). */
  | 'IGNORED_SIZE'
  | 'UNKNOWN_TYPE'
  | 'PAX_MALFORMED'
  | 'END_OF_ARCHIVE'
  | 'BAD_HEADER'
  | 'NAME_ENCODING';

export interface SkippedEntry {
  entry: string;
  code: string;
  reason: string;
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** One tar member as the safe writer sees it: already decoded, long names and pax records applied. */
export interface EntryHeader {
  /** The name as stored in the archive (for messages; never used as a path as-is). */
  name: string;
  type: EntryType;
  /** The raw tar type, for messages about unsupported members (e.g. `fifo`, `character-device`). */
  rawType: string;
  size: number;
  mode: number;
  /** Modification time in seconds since the epoch (pax gives fractions). */
  mtime: number;
  linkname: string | null;
  /** Offset of the member's header in the uncompressed tar stream. */
  offset: number;
  /** A sparse file (`size` is then its real size): where its data goes. */
  sparse?: SparseInfo;
}
