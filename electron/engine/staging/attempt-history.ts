// A chunk's attempts as an inspector shows them after a restart: the failed ones the journal kept from earlier
// runs (the engine appends one record per failed attempt), merged with what this process saw. Read-only:
// the journal belongs to the job's run.
import { join } from 'node:path';
import type { AttemptRecord } from '../events';
import { JOURNAL_FILE } from '../state/layout';
import { readJournal } from './journal';

export async function journalAttempts(stateDir: string, index: number): Promise<AttemptRecord[]> {
  const { records } = await readJournal(join(stateDir, JOURNAL_FILE)).catch(() => ({ records: [] }));
  const out: AttemptRecord[] = [];
  for (const r of records) if (r.t === 'attempt' && r.index === index) out.push(r.attempt);
  return out;
}

/** One list, oldest first, one entry per attempt number (this process's copy wins), the last `keep` only. */
export function mergeAttemptHistory(earlier: AttemptRecord[], seen: AttemptRecord[], keep: number): AttemptRecord[] {
  const byAttempt = new Map<number, AttemptRecord>();
  for (const r of earlier) byAttempt.set(r.attempt, r);
  for (const r of seen) byAttempt.set(r.attempt, r);
  return [...byAttempt.values()].sort((a, b) => a.attempt - b.attempt || a.startedAt - b.startedAt).slice(-keep);
}
