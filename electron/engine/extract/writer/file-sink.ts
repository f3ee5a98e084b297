// The data side of one regular file: sequential positional writes, seeks over a sparse file's holes, its
// own fsync for a checkpoint taken inside it, and a close handed to the background.
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { EntryHeader } from '../extract-types';
import type { BackgroundIo } from './background-io';
import type { Durability } from './durability';
import type { WriteErrorOf } from './write-error';
import type { FileSink } from './writer-types';
import { writevAll } from './writev-all';

export interface SinkServices {
  io: BackgroundIo;
  durability: Durability;
  /** File bytes written (counted as they land). */
  wrote(bytes: number): void;
  ioError: WriteErrorOf;
}

/** A sink on `fd` (or a reopened file's `handle`), writing from `startAt`; the descriptor is tracked until closed. */
export function fileSink(s: SinkServices, fd: number, abs: string, key: string, entry: EntryHeader, startAt: number, handle: fs.promises.FileHandle | null): FileSink {
  let position = startAt;
  let syncing: Promise<void> | null = null;
  s.io.opened(fd, handle);
  return {
    path: abs,
    key,
    async write(buffers) {
      try {
        const n = await writevAll(fd, buffers, position);
        position += n;
        s.wrote(n);
      } catch (err) {
        if (syncing) await syncing;
        await s.io.closeNow(fd, handle);
        throw s.ioError(err, entry.name, abs);
      }
    },
    seek(to) {
      position = to;
    },
    async truncate(size) {
      await promisify(fs.ftruncate)(fd, size).catch((err) => {
        throw s.ioError(err, entry.name, abs);
      });
    },
    sync() {
      // Stopped: the descriptors are being closed and nothing will be resumed from this point.
      if (s.durability.stopped) return Promise.resolve();
      // The descriptor must stay open until the fsync is done: end() and abort() wait for it.
      const p = promisify(fs.fsync)(fd);
      syncing = p.catch(() => undefined);
      s.durability.track(syncing);
      return p.catch((err) => {
        throw s.ioError(err, entry.name, abs);
      });
    },
    async end() {
      if (syncing) await syncing;
      await s.io.closeInBackground(fd, handle, entry.mtime, abs);
    },
  };
}
