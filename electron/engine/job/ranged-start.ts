// The start of a job's ranged run: where it resumes (a checkpoint's offset in the file, or the first chunk
// not yet in), the digests carried on from that checkpoint, the line that says so, and the run opened there.
import { ResumableDigests } from '../checksum/digest-set';
import { expectedKinds } from '../checksum/verify';
import { RangedRun } from './ranged-run';
import type { RunPlan } from './resume-plan';
import type { RunContext } from './run-context';
import { ExtractSink, type StreamSink } from './sinks';

export interface RangedStart {
  ranged: RangedRun;
  /** Digests of the bytes fed to an extraction (a download-only sink hashes its file at the end). */
  hasher: ResumableDigests | null;
}

export async function openRanged(ctx: RunContext, sink: StreamSink, plan: RunPlan, size: number): Promise<RangedStart> {
  const o = ctx.options;
  const { resumePoint } = plan;
  const resumeOffset = resumePoint ? resumePoint.extract.compressedOffset : plan.resumeFrom * o.chunkSize;
  const kinds = expectedKinds({ sha256: o.sha256, md5: o.md5 });
  const hasher = kinds.length > 0 && sink instanceof ExtractSink ? await ResumableDigests.create(kinds, resumePoint) : null;
  if (resumePoint) {
    ctx.emit({
      type: 'warning',
      code: 'RESUMED',
      message: `Resuming from the checkpoint at byte ${resumeOffset} of ${size} (${((resumeOffset / size) * 100).toFixed(1)}%, ${resumePoint.extract.entries} entries done): chunks before chunk ${plan.resumeFrom} are not fetched again.`,
    });
  }
  const ranged = await RangedRun.open(ctx, sink, { size, chunkCount: plan.chunkCount, startChunk: plan.resumeFrom, resumePoint }, hasher);
  return { ranged, hasher };
}
