// What a job cancelled with "delete files" takes with it: its output file, or the contents of a destination
// it found empty. Never an operator's files: without the job's word that the folder started empty, they stay.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { loadJobState } from '../engine/state/job-state';
import type { JobOptions } from '../engine/runner/runner';

/** `options` undefined: the job is gone already, and nothing is known to be its own. */
export async function deleteWrittenFiles(options: JobOptions | undefined, stateDir: string): Promise<void> {
  if (!options) return;
  if (options.output) {
    await fsp.rm(options.output, { force: true });
    return;
  }
  if (!options.dest) return;
  const state = await loadJobState(stateDir);
  if (state?.destStartedEmpty !== true) return;
  for (const name of await fsp.readdir(options.dest).catch(() => [] as string[])) {
    await fsp.rm(join(options.dest, name), { recursive: true, force: true });
  }
}

/** Cancelled jobs whose files go too, once their run has stopped writing; and the staging that always goes. */
export class CancelledFiles {
  private readonly deleteOnCancel = new Set<string>();

  deleteWith(id: string): void {
    this.deleteOnCancel.add(id);
  }

  async discard(id: string, options: JobOptions | undefined, stateDir: string): Promise<void> {
    if (this.deleteOnCancel.delete(id)) await deleteWrittenFiles(options, stateDir).catch(() => undefined);
    await fsp.rm(stateDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
