// The operator's request headers, kept with the job's state so that a resumed run without --header sends
// them again: a file of its own, owner-only (0600, in a 0700 folder), so that nothing else in the state (the
// job file, checkpoints, the journal, status output) ever holds a token. It goes with the rest of the state
// when the job completes (layout.ts isJobStateFile).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors';
import { isHeaderSet, type HeaderSet } from '../transfer/origin-headers';
import { writeFileAtomic } from './atomic-file';
import { HEADERS_FILE } from './layout';

interface SavedHeaders extends HeaderSet {
  version: 1;
}

export async function saveHeaders(stateDir: string, set: HeaderSet): Promise<void> {
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const record: SavedHeaders = { version: 1, origin: set.origin, entries: set.entries };
  await writeFileAtomic(join(stateDir, HEADERS_FILE), JSON.stringify(record));
}

/** The saved headers, or null when there are none; a damaged file is an error (a token may have been lost). */
export async function loadHeaders(stateDir: string): Promise<HeaderSet | null> {
  let text: string;
  try {
    text = await fsp.readFile(join(stateDir, HEADERS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new EngineError('E_STATE_UNREADABLE', `The saved request headers in ${stateDir} cannot be read; give them again with --header.`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (!isHeaderSet(value) || (value as SavedHeaders).version !== 1) {
    throw new EngineError('E_STATE_UNREADABLE', `The saved request headers in ${stateDir} are damaged; give them again with --header.`);
  }
  return { origin: value.origin, entries: value.entries };
}

export async function clearHeaders(stateDir: string): Promise<void> {
  await fsp.rm(join(stateDir, HEADERS_FILE), { force: true });
}

/**
 * The headers a run sends: those given now (saved, replacing earlier ones), else those an earlier run of
 * this job saved. `reused` says the latter, so the run can tell the operator (by name only).
 */
export async function headersForRun(stateDir: string, given: HeaderSet | null): Promise<{ headers: HeaderSet | null; reused: boolean }> {
  if (given && given.entries.length > 0) {
    await saveHeaders(stateDir, given);
    return { headers: given, reused: false };
  }
  const saved = await loadHeaders(stateDir);
  return { headers: saved, reused: saved !== null };
}
