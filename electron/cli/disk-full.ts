// The CLI's full destination: like the window, the job pauses as disk-full, says where and how much space
// it waits for, polls, and a new run continues from the last checkpoint once there is room (see
// host/disk-full-wait.ts). Ctrl-C while it waits stops it as interrupted: the state is kept.
import { AbortedError, EngineError, formatBytes } from '../engine/errors';
import type { JobOptions } from '../engine/job/job-options';
import { waitForFreeSpace } from '../engine/space/space-wait';
import { spaceToWaitFor, type SpaceToWaitFor } from '../host/disk-full-wait';

/** How often the free space is looked at while the job waits. */
export const DISK_CHECK_MS = 2_000;

export function isDiskFull(err: unknown): err is EngineError {
  return err instanceof EngineError && err.code === 'E_DISK_FULL';
}

export function waitingLine(need: SpaceToWaitFor): string {
  return `Waiting for space on ${need.path}: it needs ${formatBytes(need.bytes)} free, ${formatBytes(need.free)} are free now. Free some space and the job continues by itself (checked every ${DISK_CHECK_MS / 1000} s); Ctrl-C stops it, and the same get resumes it later.`;
}

/** Waits until the full disk has the room a new run needs; `tell` hears what it waits for before it starts. */
export async function waitOutFullDisk(options: JobOptions, err: EngineError, signal: AbortSignal, tell: (need: SpaceToWaitFor) => void): Promise<void> {
  const need = await spaceToWaitFor(options, err);
  tell(need);
  try {
    await waitForFreeSpace(need.path, need.bytes, signal, DISK_CHECK_MS);
  } catch (e) {
    if (!signal.aborted) throw e;
    throw new AbortedError(`Stopped while waiting for space on ${need.path}; its state is kept, so running the same get again resumes.`, { cause: err });
  }
}
