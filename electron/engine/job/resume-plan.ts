// Where a run starts. A completed job is a no-op; the same job (same target and URL) continues from its
// checkpoint or its committed chunks once the origin is shown unchanged; anything else starts from the
// beginning. On the way: whether a saved checkpoint fits this file, how much of a download-only output is still
// there, and whether the disk can take what is left.
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dispatcher } from 'undici';
import { digestResumeProblem } from '../checksum/digest-set';
import type { DigestKind } from '../checksum/checksum-text';
import { expectedKinds } from '../checksum/verify';
import { UpstreamChangedError } from '../errors';
import type { TransferMode } from '../events';
import { loadCheckpoint } from '../state/checkpoint-store';
import { describeUpstreamChange, saveJobState, type JobIdentity, type JobStateRecord } from '../state/job-state';
import { readJournal } from '../staging/journal';
import { contiguousBytes, durableOutputFrom, stillInOutput, type DurableOutput } from '../staging/output-record';
import { JOURNAL_FILE } from '../state/layout';
import { forgetEarlierJob } from '../state/state-cleanup';
import { redactUrl } from '../transfer/redact';
import { hasNoValidator, NO_VALIDATOR_MESSAGE, validatorChange } from '../transfer/response-checks';
import { targetIntact } from './completed-job';
import { downloadResumeMode } from './resume-mode';
import type { JobEventInput } from './run-context';
import { checkFreeSpace, outputSizeHint, type SpaceNeed } from '../space/space-check';
import type { SavedCheckpoint } from '../state/checkpoint-store';
import type { ProbeResult } from '../transfer/probe';
import type { ResolvedOptions } from './job-options';
import { sameObjectByNewLink } from './link-rerun';

/** What the planning before a run decided: where it starts, and the state it keeps. */
export interface RunPlan {
  record: JobStateRecord;
  chunkCount: number;
  resumeFrom: number;
  resumePoint: SavedCheckpoint | null;
  reuseComplete: boolean;
  /** Download-only: durable bytes from each chunk's start still in the output (see staging/output-record.ts). */
  outputKept: Map<number, number>;
}

export type ResumeDecision = { kind: 'complete'; previous: JobStateRecord } | { kind: 'run'; mode: TransferMode; plan: RunPlan };

/** Decides where the run starts and pins the job's identity in its state before anything is fetched. */
export async function planResume(p: {
  options: ResolvedOptions;
  previous: JobStateRecord | null;
  probed: ProbeResult;
  target: string;
  dispatcher: Dispatcher;
  emit: (event: JobEventInput) => void;
}): Promise<ResumeDecision> {
  const { options: o, previous, probed, target, emit } = p;
  const identity: JobIdentity = {
    url: o.url,
    finalUrl: probed.finalUrl,
    size: probed.size,
    etag: probed.etag,
    weakEtag: probed.weakEtag,
    lastModified: probed.lastModified,
    chunkSize: o.chunkSize,
    mode: o.dest ? 'extract' : 'download',
    target,
  };
  let resumeFrom = 0;
  let resumePoint: SavedCheckpoint | null = null;
  let durable: DurableOutput | null = null;
  const sameJob = !!previous && previous.identity.target === target && (previous.identity.url === o.url || (await sameObjectByNewLink({ ...p, previous })));
  if (previous && sameJob) {
    const change = describeUpstreamChange(previous.identity, probed) ?? validatorChange(previous.identity, { etag: probed.weakEtag, lastModified: probed.lastModified });
    if (change) {
      throw new UpstreamChangedError(
        `The snapshot at ${redactUrl(o.url)} changed since this job started (${change}). Kept data was not mixed with the new file. Run again with --restart to download the new snapshot from the beginning.`,
        { details: { change } },
      );
    }
    if (previous.complete && previous.summary && (await targetIntact(previous.identity, target))) return { kind: 'complete', previous };
    // Download-only output keeps what its journal says is durable; extraction restarts from the beginning until
    // a checkpoint says otherwise.
    if (identity.mode === 'download' && previous.identity.chunkSize === o.chunkSize) {
      const { records } = await readJournal(join(o.stateDir, JOURNAL_FILE));
      durable = durableOutputFrom(records, previous.consumedChunks, o.chunkSize, probed.size ?? 0);
    }
    if (o.checkpoints && identity.mode === 'extract' && previous.identity.chunkSize === o.chunkSize) resumePoint = await loadCheckpoint(o.stateDir);
  }
  // Another job's checkpoint, journal and chunk files describe other bytes.
  if (!sameJob) await forgetEarlierJob(o.stateDir);

  const mode: TransferMode = probed.rangeSupported && probed.size !== null && probed.size > 0 ? 'ranged' : 'single-stream';
  const size = probed.size ?? 0;
  const chunkCount = mode === 'ranged' ? Math.ceil(size / o.chunkSize) : 0;
  resumePoint = usableResumePoint(resumePoint, { size, mode, digests: expectedKinds({ sha256: o.sha256, md5: o.md5 }) }, (message) =>
    emit({ type: 'warning', code: 'CHECKPOINT_IGNORED', message }),
  );
  if (resumePoint) resumeFrom = Math.floor(resumePoint.extract.compressedOffset / o.chunkSize);
  let outputKept = new Map<number, number>();
  // Without ranges the output is streamed again from its start.
  if (o.output && mode === 'ranged' && durable && durable.chunks.size > 0) {
    outputKept = await keptOutput(o.output, durable, o.chunkSize, (message) => emit({ type: 'warning', code: 'OUTPUT_SHORTER', message }));
    resumeFrom = Math.floor(contiguousBytes(outputKept, o.chunkSize, size) / o.chunkSize);
  }
  resumeFrom = Math.min(resumeFrom, chunkCount);
  emit({
    type: 'probed',
    finalUrl: redactUrl(probed.finalUrl),
    size: probed.size,
    mode,
    etag: probed.etag,
    lastModified: probed.lastModified,
    chunkSize: o.chunkSize,
    chunkCount,
    format: o.output ? 'raw' : o.format === 'auto' ? null : o.format,
  });
  if (o.output) emit({ type: 'decoding', format: 'raw', ...downloadResumeMode(mode) });
  if (hasNoValidator(probed) && o.sha256 === null && o.md5 === null) emit({ type: 'warning', code: 'NO_VALIDATOR', message: NO_VALIDATOR_MESSAGE });

  const keptBytes = [...outputKept.values()].reduce((a, b) => a + b, 0);
  if (!o.force) await preflightSpace({ options: o, mode, dispatcher: p.dispatcher, probed, chunkCount, startChunk: resumeFrom, resumePoint, keptBytes });

  // Only a destination this job found empty may hold files a restart keeps (never an operator's, see --force).
  const destStartedEmpty = sameJob ? previous!.destStartedEmpty === true : o.dest !== null && (await isEmptyOrMissing(o.dest));
  const refreshUrlCommand = o.refreshUrlCommand ?? (sameJob ? previous!.refreshUrlCommand : undefined);
  const record: JobStateRecord = {
    version: 1,
    identity,
    consumedChunks: resumeFrom,
    complete: false,
    updatedAt: Date.now(),
    destStartedEmpty,
    ...(refreshUrlCommand ? { refreshUrlCommand } : {}),
  };
  await saveJobState(o.stateDir, record);
  return {
    kind: 'run',
    mode,
    plan: { record, chunkCount, resumeFrom, resumePoint, reuseComplete: sameJob && destStartedEmpty && !resumePoint, outputKept },
  };
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dir)).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Below this size the trailer hint for free space is not worth its two requests. */
const SIZE_HINT_MIN_BYTES = 256 * 1024 * 1024;

/** A saved checkpoint is used only if it fits this file and can verify what it must; `ignored` says why not. */
export function usableResumePoint(
  point: SavedCheckpoint | null,
  job: { size: number; mode: TransferMode; digests: DigestKind[] },
  ignored: (message: string) => void,
): SavedCheckpoint | null {
  if (!point) return null;
  const why =
    job.mode !== 'ranged'
      ? 'the server no longer serves ranges'
      : point.extract.compressedOffset > job.size
        ? 'it lies beyond the end of the file'
        : job.digests.length > 0
          ? digestResumeProblem(point, job.digests)
          : null;
  if (!why) return point;
  ignored(`The saved checkpoint cannot be used (${why}); extraction starts from the beginning.`);
  return null;
}

/**
 * Resume of a download-only job: the output must still be the file the journal speaks of and hold what it
 * vouches for; `shorter` says what was lost.
 */
export async function keptOutput(output: string, durable: DurableOutput, chunkSize: number, shorter: (message: string) => void): Promise<Map<number, number>> {
  const { chunks, why } = await stillInOutput(output, durable, chunkSize);
  if (why) {
    const had = [...durable.chunks.values()].reduce((a, b) => a + b, 0);
    const kept = [...chunks.values()].reduce((a, b) => a + b, 0);
    shorter(`The output ${output} no longer holds the ${had} bytes this job had written into it (${why}); ${kept} of them are kept and the rest is fetched again.`);
  }
  return chunks;
}

/** Free space for the window and for what is known of the output, before anything is fetched. */
export async function preflightSpace(p: {
  options: ResolvedOptions;
  mode: TransferMode;
  dispatcher: Dispatcher;
  probed: ProbeResult;
  chunkCount: number;
  startChunk: number;
  resumePoint: SavedCheckpoint | null;
  /** Download-only: bytes already durable in the output. */
  keptBytes?: number;
}): Promise<void> {
  const o = p.options;
  const needs: SpaceNeed[] = [];
  const remainingChunks = Math.max(0, p.chunkCount - p.startChunk);
  // A download is written in place: the output is its only disk, all of it reserved up front (no window).
  if (p.mode === 'ranged' && !o.output) needs.push({ path: o.stateDir, bytes: Math.min(o.window, remainingChunks) * o.chunkSize, what: 'the chunk window' });
  if (o.output && p.probed.size !== null) needs.push({ path: dirname(o.output), bytes: p.probed.size - (p.keptBytes ?? 0), what: 'the download' });
  // The trailer hint costs two tiny requests: worth it only where running out of space would hurt.
  if (o.dest && p.mode === 'ranged' && p.probed.size !== null && p.probed.size >= SIZE_HINT_MIN_BYTES) {
    const hint = await outputSizeHint(p.dispatcher, p.probed.finalUrl, p.probed.size, p.probed.etag ?? p.probed.lastModified, o.headers);
    if (hint !== null) needs.push({ path: o.dest, bytes: hint.bytes - (p.resumePoint?.extract.bytesWritten ?? 0), what: `the extracted files (${hint.what})` });
  }
  await checkFreeSpace(needs);
}
