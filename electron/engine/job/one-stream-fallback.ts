// The origin stopped honouring ranges mid-run: the sink has every byte up to the ranged run's offset, and
// one stream brings the rest, its first bytes up to there read and dropped. Said in two lines: the warning,
// and the extraction's resume mode, which is none from here on.
import type { ArchiveFormat } from '../events';
import type { RangesAbandoned } from '../transfer/origin-quirks';
import type { RangedRun } from './ranged-run';
import type { JobEventInput } from './run-context';

export interface FallbackHost {
  /** A download to a file decodes nothing ('raw'); an extraction says the format it found, if any yet. */
  readonly format: ArchiveFormat | 'raw' | null;
  emit(event: JobEventInput): void;
  /** The job now counts one stream's bytes, starting from what the ranged run committed. */
  switched(committed: number): void;
  /** Streams the file from its start, the sink having its first `skip` bytes. */
  stream(skip: number): Promise<void>;
}

export async function continueAsOneStream(ranged: RangedRun, why: RangesAbandoned, host: FallbackHost): Promise<void> {
  // No new checkpoints: the one in flight may wait for input only the stream brings (a deflate block's end),
  // so it is not awaited; whatever it saves is a true point of this file.
  await ranged.abandon();
  host.switched(ranged.committedBytes());
  ranged.emitWindow();
  const offset = ranged.consumedOffset;
  host.emit({
    type: 'warning',
    code: 'RANGES_ABANDONED',
    message: `${why.message} The sink has the first ${offset} bytes; the stream's first bytes up to there are read and dropped.`,
  });
  if (host.format) host.emit({ type: 'decoding', format: host.format, resume: 'none', reason: 'the server stopped honouring range requests' });
  await host.stream(offset);
}
