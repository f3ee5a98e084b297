// The messages between the creation pool and its threads: a batch of small files (their bytes in one
// transferred buffer) and one result per file, in the batch's order.

export interface CreationFile {
  /** What the kernel gets: a string, or a name's exact bytes (see byte-names.ts). */
  path: string | Uint8Array;
  mode: number;
  mtime: number;
  /** The file's bytes in the batch's buffer. */
  start: number;
  end: number;
}

export interface CreationBatch {
  id: number;
  flags: number;
  files: CreationFile[];
  /** The files' bytes from 0 (the buffer may be longer). */
  data: ArrayBuffer;
}

export type CreationResult =
  | { ok: true }
  /** A non-empty directory is where the file would go: the member is skipped. */
  | { skip: 'EXISTING_DIRECTORY' }
  | { error: { message: string; code: string | undefined; errno: number | undefined; syscall: string | undefined } };

export interface CreationReply {
  id: number;
  results: CreationResult[];
  /** The batch's buffer, handed back for a later batch. */
  data: ArrayBuffer;
}
