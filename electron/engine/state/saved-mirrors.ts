// The job's mirrors, kept with its state so that a resumed run without --mirror (or the window's restart of
// a job) uses them again: a file of its own, owner-only (0600, in a 0700 folder), since a mirror may be a
// presigned URL whose query string is a signature. It goes with the rest of the state (layout.ts isJobStateFile).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors';
import { writeFileAtomic } from './atomic-file';
import { MIRRORS_FILE } from './layout';

interface SavedMirrors {
  version: 1;
  mirrors: string[];
}

export async function saveMirrors(stateDir: string, mirrors: readonly string[]): Promise<void> {
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const record: SavedMirrors = { version: 1, mirrors: [...mirrors] };
  await writeFileAtomic(join(stateDir, MIRRORS_FILE), JSON.stringify(record));
}

/** The saved mirrors ([] when none); a damaged file is an error rather than a silent run without them. */
export async function loadMirrors(stateDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(join(stateDir, MIRRORS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new EngineError('E_STATE_UNREADABLE', `The saved mirrors in ${stateDir} cannot be read; give them again with --mirror.`, { cause: err });
  }
  let value: Partial<SavedMirrors> | null;
  try {
    value = JSON.parse(text) as Partial<SavedMirrors>;
  } catch {
    value = null;
  }
  if (!value || value.version !== 1 || !Array.isArray(value.mirrors) || !value.mirrors.every((m) => typeof m === 'string')) {
    throw new EngineError('E_STATE_UNREADABLE', `The saved mirrors in ${stateDir} are damaged; give them again with --mirror.`);
  }
  return value.mirrors;
}

/** The mirrors a run uses: those given now (saved, replacing earlier ones), else those an earlier run saved. */
export async function mirrorsForRun(stateDir: string, given: readonly string[]): Promise<{ mirrors: string[]; reused: boolean }> {
  if (given.length > 0) {
    await saveMirrors(stateDir, given);
    return { mirrors: [...given], reused: false };
  }
  const saved = await loadMirrors(stateDir);
  return { mirrors: saved, reused: saved.length > 0 };
}
