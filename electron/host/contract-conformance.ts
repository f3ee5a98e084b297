// The engine's types and the contract's schemas describe the same wire values twice (the engine may not
// import zod, the renderer may not import the engine). This file is where the two are held equal: a change
// to one side that the other does not follow fails to compile here, not at run time in the window.
import type { z } from 'zod';
import type { SerializedError } from '../engine/errors';
import type {
  ArchiveFormat,
  AttemptRecord,
  ChunkState,
  JobState,
  JobSummary,
  PartState,
  PartStateEvent,
  PauseReason,
  ResumeMode,
  SourceSummary,
  TransferMode,
  WaitingOn,
} from '../engine/events';
import type { FormatOption } from '../engine/job/job-options';
import type {
  archiveFormatSchema,
  attemptRecordSchema,
  chunkStateSchema,
  formatOptionSchema,
  jobSummarySchema,
  jobStateSchema,
  partStateSchema,
  partViewSchema,
  pauseReasonSchema,
  resumeModeSchema,
  serializedErrorSchema,
  sourceViewSchema,
  transferModeSchema,
  waitingOnSchema,
} from '../../shared/schemas';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Holds<T extends true> = T;

export type ContractConformance = [
  Holds<Equal<JobState, z.output<typeof jobStateSchema>>>,
  Holds<Equal<PauseReason, z.output<typeof pauseReasonSchema>>>,
  Holds<Equal<ChunkState, z.output<typeof chunkStateSchema>>>,
  Holds<Equal<TransferMode, z.output<typeof transferModeSchema>>>,
  Holds<Equal<ArchiveFormat, z.output<typeof archiveFormatSchema>>>,
  Holds<Equal<FormatOption, z.output<typeof formatOptionSchema>>>,
  Holds<Equal<WaitingOn, z.output<typeof waitingOnSchema>>>,
  Holds<Equal<ResumeMode, z.output<typeof resumeModeSchema>>>,
  Holds<Equal<SerializedError['code'], z.output<typeof serializedErrorSchema>['code']>>,
  // Every field the engine records of an attempt reaches the window.
  Holds<Equal<keyof AttemptRecord, keyof z.output<typeof attemptRecordSchema>>>,
  // ... and every field of a job's outcome.
  Holds<Equal<keyof JobSummary, keyof z.output<typeof jobSummarySchema>>>,
  // ... and what the job says of each of its sources.
  Holds<Equal<SourceSummary, z.output<typeof sourceViewSchema>>>,
  // A part's states and checksum verdicts, as the engine says them and the window shows them.
  Holds<Equal<PartState, z.output<typeof partStateSchema>>>,
  Holds<Equal<PartStateEvent['checksum'], z.output<typeof partViewSchema>['checksum']>>,
];
