// A failed file system call while writing a member, as the coded error the job reports: ENOSPC is a
// disk-full pause (the job waits for space), anything else an I/O failure naming the member.
import { DiskFullError, EngineError } from '../../errors';

/** `root` names the place when neither the call nor the caller knows the file. */
export function writeError(err: unknown, name: string, root: string, file?: string): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return new DiskFullError(file ?? e.path ?? root, undefined, { cause: err });
  return new EngineError('E_IO', `Writing "${name}" failed: ${e?.message ?? String(err)}`, {
    cause: err,
    details: { entry: name, path: file ?? e?.path, syscall: e?.syscall, errno: e?.code },
  });
}

export type WriteErrorOf = (err: unknown, name: string, file?: string) => EngineError;
