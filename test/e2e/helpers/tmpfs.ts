// A small tmpfs for the disk-space tests: only root can mount one, and some sandboxes refuse even root.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** False when a tmpfs can be mounted here, else why not (a skip reason). */
export function canMountTmpfs(): string | false {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'sm-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return false;
  } catch {
    return 'cannot mount a tmpfs here';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
