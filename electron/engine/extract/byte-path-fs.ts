// The file system calls of the safe writer, taking engine names (see byte-names.ts): a path that holds
// non-UTF-8 bytes reaches the kernel as exactly those bytes (Node takes Buffer paths), never as U+FFFD.
import * as fs from 'node:fs';
import { osPath } from './byte-names';

const p = fs.promises;

export const bytePathFs = {
  mkdir: (path: string, mode?: number | fs.MakeDirectoryOptions) => p.mkdir(osPath(path), mode),
  realpath: (path: string) => p.realpath(path),
  stat: (path: string) => p.stat(osPath(path)),
  lstat: (path: string) => p.lstat(osPath(path)),
  open: (path: string, flags: number, mode?: number) => p.open(osPath(path), flags, mode),
  rename: (from: string, to: string) => p.rename(osPath(from), osPath(to)),
  chmod: (path: string, mode: number) => p.chmod(osPath(path), mode),
  utimes: (path: string, atime: number, mtime: number) => p.utimes(osPath(path), atime, mtime),
  lutimes: (path: string, atime: number, mtime: number) => p.lutimes(osPath(path), atime, mtime),
  rmdir: (path: string) => p.rmdir(osPath(path)),
  unlink: (path: string) => p.unlink(osPath(path)),
  symlink: (target: string, path: string) => p.symlink(osPath(target), osPath(path)),
  link: (existing: string, path: string) => p.link(osPath(existing), osPath(path)),
  statfs: (p as unknown as { statfs?: (x: string) => Promise<{ bavail: number; bsize: number }> }).statfs,
};

/**
 * The same calls, synchronous, for the steps of a member that wait on nothing else and take microseconds:
 * a thread-pool round trip (a futex wake and a context switch) costs more than the syscall itself there.
 */
export const bytePathFsSync = {
  mkdir: (path: string, mode: number) => void fs.mkdirSync(osPath(path), mode),
  lstat: (path: string) => fs.lstatSync(osPath(path)),
  symlink: (target: string, path: string) => fs.symlinkSync(osPath(target), osPath(path)),
  lutimes: (path: string, atime: number, mtime: number) => fs.lutimesSync(osPath(path), atime, mtime),
};

/** fs.open with an engine name, as a raw descriptor. */
export function openFd(path: string, flags: number, mode: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(osPath(path), flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}
