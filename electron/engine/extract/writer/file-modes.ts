// How the writer opens what it creates, and which mode bits it keeps.
import * as fs from 'node:fs';

const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
// O_NOFOLLOW does not exist on Windows; there O_EXCL already refuses an existing link.
export const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** A new file, never an existing one or a link (whatever was there is unlinked first). */
export const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** Mode bits kept: permissions only. setuid, setgid and sticky are dropped, like GNU tar for a non-root user. */
export const PERMISSION_BITS = 0o777;

/** The process umask, read without changing it where the runtime allows (worker threads cannot set it). */
export function currentUmask(): number {
  try {
    return process.umask();
  } catch {
    return 0o022;
  }
}
