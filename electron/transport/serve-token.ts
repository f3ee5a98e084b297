// The token of `serve`, kept in its state folder so that a restart does not lock out an open tab. Readable by
// its owner only: whoever holds it controls the jobs (and can write wherever this user can).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../engine/state/atomic-file';

export const TOKEN_FILE = 'serve-token';

export async function loadOrCreateToken(stateDir: string, create: () => string): Promise<string> {
  const path = join(stateDir, TOKEN_FILE);
  const existing = await fsp.readFile(path, 'utf8').catch(() => null);
  const token = existing?.trim();
  if (token && /^[A-Za-z0-9_-]{16,}$/.test(token)) {
    // A copy restored from a backup (or an older version) may be wider: narrow it again.
    await fsp.chmod(path, 0o600).catch(() => undefined);
    return token;
  }
  const fresh = create();
  // Created owner-only (never widened for a moment), then renamed into place.
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await fsp.open(tmp, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(`${fresh}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, path);
  await fsyncDir(stateDir);
  return fresh;
}
