// The app's data folder, shared by the window, `serve` and the CLI: the job list, logs and completion records.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function appDataDir(): string {
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'snapshot-manager');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'snapshot-manager');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'snapshot-manager');
}

/** Where completed jobs leave their record (see engine/completion-record.ts). */
export function completionDirOf(dataDir: string): string {
  return join(dataDir, 'completed');
}
