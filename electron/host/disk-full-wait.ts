// A job paused because its destination is full waits for free space, then a new run continues from the
// last checkpoint. Staging ENOSPC pauses inside the engine; a destination's cannot continue mid-write, so
// the run ends and the manager (or the CLI) starts a new one once the space it needs is free: what the
// refusal named, else a chunk's worth more than was free.
import { dirname } from 'node:path';
import { freeBytes, waitForFreeSpace } from '../engine/space/space-wait';
import type { JobOptions } from '../engine/runner/runner';

export interface SpaceToWaitFor {
  /** The folder whose filesystem must free up. */
  path: string;
  /** Free bytes on it that let a new run go on. */
  bytes: number;
  /** Free bytes on it now. */
  free: number;
}

/** What a job stopped by a full disk waits for: on which filesystem, and how many bytes free. */
export async function spaceToWaitFor(options: JobOptions, error: { details?: Record<string, unknown> | undefined }): Promise<SpaceToWaitFor> {
  const d = error.details ?? {};
  // A refusal up front names the filesystem that is short (the window's may be another than the target's)
  // and the total it needs; a write that hit ENOSPC names a file in the target, and how much more than was free.
  const refused = typeof d['needed'] === 'number' && typeof d['path'] === 'string';
  const path = refused ? (d['path'] as string) : (options.dest ?? (options.output ? dirname(options.output) : options.stateDir));
  const total = refused ? (d['needed'] as number) : 0;
  const more = typeof d['bytesNeeded'] === 'number' ? d['bytesNeeded'] : 0;
  const free = (await freeBytes(path)) ?? 0;
  return { path, free, bytes: Math.max(total, free + Math.max(more, options.chunkSize ?? 64 * 1024 * 1024)) };
}

export class DiskFullWaits {
  /** Jobs paused because their destination is full, each with the wait for free space it ends. */
  private readonly waits = new Map<string, AbortController>();

  constructor(private readonly checkMs: number) {}

  has(id: string): boolean {
    return this.waits.has(id);
  }

  ids(): string[] {
    return [...this.waits.keys()];
  }

  /** Waits for the space the job needs, then calls `free` (unless stopped meanwhile). Stop an earlier wait first. */
  start(id: string, options: JobOptions, error: { details?: Record<string, unknown> | undefined }, free: () => void): void {
    const controller = new AbortController();
    this.waits.set(id, controller);
    void (async () => {
      const need = await spaceToWaitFor(options, error);
      await waitForFreeSpace(need.path, need.bytes, controller.signal, this.checkMs);
      if (this.waits.get(id) !== controller) return;
      this.waits.delete(id);
      free();
    })().catch(() => undefined);
  }

  stop(id: string): void {
    this.waits.get(id)?.abort();
    this.waits.delete(id);
  }
}
