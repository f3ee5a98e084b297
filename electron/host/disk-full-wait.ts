// A job paused because its destination is full waits for free space, then a new run continues from the
// last checkpoint. Staging ENOSPC pauses inside the engine; a destination's cannot continue mid-write, so
// the run ends and the manager starts a new one once the space it needs is free: what the refusal named,
// else a chunk's worth more than was free.
import { dirname } from 'node:path';
import { freeBytes, waitForFreeSpace } from '../engine/space/space-wait';
import type { JobOptions } from '../engine/runner/runner';

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
    const path = options.dest ?? (options.output ? dirname(options.output) : options.stateDir);
    // A refusal up front names the total it needs; a write that hit ENOSPC how much more than was free then.
    const total = typeof error.details?.['needed'] === 'number' ? error.details['needed'] : 0;
    const more = typeof error.details?.['bytesNeeded'] === 'number' ? error.details['bytesNeeded'] : 0;
    const controller = new AbortController();
    this.waits.set(id, controller);
    void (async () => {
      const freeNow = (await freeBytes(path)) ?? 0;
      const bytes = Math.max(total, freeNow + Math.max(more, options.chunkSize ?? 64 * 1024 * 1024));
      await waitForFreeSpace(path, bytes, controller.signal, this.checkMs);
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
