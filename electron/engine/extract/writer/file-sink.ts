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

/**
 * Writes of one file in flight at once: the next batch of the member is framed (and the next staged bytes
 * read) while the kernel copies the last ones, and libuv's threads write two batches side by side.
 */
const WRITES_IN_FLIGHT = 3;

/** A sink on `fd` (or a reopened file's `handle`), writing from `startAt`; the descriptor is tracked until closed. */
export function fileSink(s: SinkServices, fd: number, abs: string, key: string, entry: EntryHeader, startAt: number, handle: fs.promises.FileHandle | null): FileSink {
  let position = startAt;
  let syncing: Promise<void> | null = null;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  s.io.opened(fd, handle);
  /** After a failed write: waits for the others and the fsync under way, closes, throws the first failure. */
  const failed = async (): Promise<never> => {
    await Promise.allSettled([...inFlight]);
    if (syncing) await syncing;
    await s.io.closeNow(fd, handle);
    throw s.ioError(failure, entry.name, abs);
  };
  /** Waits until every write issued has landed (or failed: see `failure`). */
  const allLanded = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    path: abs,
    key,
    async write(buffers) {
      if (failure) await failed();
      let n = 0;
      for (const b of buffers) n += b.length;
      // Positional: each write knows where it lands, so they may finish in any order.
      const p = writevAll(fd, buffers, position).then(
        () => undefined,
        (err) => {
          failure ??= err;
        },
      );
      position += n;
      s.wrote(n);
      inFlight.add(p);
      s.io.writing(p);
      void p.finally(() => inFlight.delete(p));
      while (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
      if (failure) await failed();
    },
    seek(to) {
      position = to;
    },
    async truncate(size) {
      await allLanded();
      if (failure) await failed();
      await promisify(fs.ftruncate)(fd, size).catch((err) => {
        throw s.ioError(err, entry.name, abs);
      });
    },
    sync() {
      // Stopped: the descriptors are being closed and nothing will be resumed from this point.
      if (s.durability.stopped) return Promise.resolve();
      // The descriptor must stay open until the fsync is done: end() and abort() wait for it.
      const p = (async () => {
        await allLanded();
        if (failure) throw s.ioError(failure, entry.name, abs);
        await promisify(fs.fsync)(fd).catch((err) => {
          throw s.ioError(err, entry.name, abs);
        });
      })();
      syncing = p.catch(() => undefined);
      s.durability.track(syncing);
      return p;
    },
    async end() {
      await allLanded();
      if (failure) await failed();
      if (syncing) await syncing;
      await s.io.closeInBackground(fd, handle, entry.mtime, abs);
    },
  };
}
