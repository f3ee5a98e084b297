// What a run takes over from the journal an earlier run left: its part files (continued only as far as the
// journal vouches for their bytes), the chunks it staged (verified later, see kept-chunks.ts), the attempts of
// the chunks still to fetch (the inspector shows their history), and a torn last record, said once.
import type { JobEventInput } from './run-context';
import type { ChunkRecords } from '../staging/chunk-records';
import { Journal, type JournalRecord } from '../staging/journal';
import { journalParts } from '../staging/part-verify';
import { StagingArea } from '../staging/staging';
import { KeptChunks } from './kept-chunks';

export function replayJournal(
  opened: { records: JournalRecord[]; tornBytes: number },
  records: ChunkRecords,
  kept: KeptChunks,
  startChunk: number,
  emit: (event: JobEventInput) => void,
): void {
  for (const r of opened.records) {
    if (r.t === 'staged') kept.noteStaged(r);
    else if (r.t === 'attempt' && r.index >= startChunk) {
      records.addAttempt(r.index, r.attempt);
      const rec = records.get(r.index);
      rec.attemptCount = Math.max(rec.attemptCount, r.attempt.attempt);
    }
  }
  if (opened.tornBytes > 0) {
    emit({
      type: 'warning',
      code: 'E_JOURNAL',
      message: `The journal ended in a torn record (${opened.tornBytes} bytes, from a crash mid-write); it was dropped and the chunks it named are verified again.`,
    });
  }
}

/** Opens the journal and the staging area, verifying the part files an earlier run left. */
export async function openEarlierRun(stateDir: string, chunkSize: number, emit: (event: JobEventInput) => void) {
  const opened = await Journal.open(stateDir);
  const kept = new KeptChunks(emit);
  const staging = new StagingArea(
    stateDir,
    journalParts(opened.journal, opened.records, chunkSize, (index, keptBytes, had) => kept.partDropped(index, keptBytes, had)),
  );
  await staging.init();
  return { opened, kept, staging };
}
