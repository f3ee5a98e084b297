// Where a stopped job can continue, said once the format is known: the decoder's granularity, unless the
// job itself rules checkpoints out (turned off, a window of one slot, an origin without ranges).
import type { ResumeGranularity } from '../decode/resumable-decoder';
import type { ResumeMode, TransferMode } from '../events';

export interface ResumeFacts {
  /** The decoder's granularity; 'none' for a streamed (native or replacement) decoder. */
  granularity: ResumeGranularity;
  checkpoints: boolean;
  window: number;
  mode: TransferMode;
}

export function extractResumeMode(f: ResumeFacts): { resume: ResumeMode; reason: string | null } {
  if (f.mode !== 'ranged') return { resume: 'none', reason: 'the server does not take range requests, so a stop downloads it again' };
  if (!f.checkpoints) return { resume: 'none', reason: 'checkpoints are turned off for this job' };
  if (f.window < 2) return { resume: 'none', reason: 'a window of one slot cannot keep a chunk while the next one is fetched' };
  if (f.granularity === 'none') return { resume: 'none', reason: 'this decoder cannot be checkpointed' };
  return { resume: f.granularity, reason: null };
}

/** A download keeps every chunk it completed, when the origin takes ranges. */
export function downloadResumeMode(mode: TransferMode): { resume: ResumeMode; reason: string | null } {
  return mode === 'ranged' ? { resume: 'chunk', reason: null } : { resume: 'none', reason: 'the server does not take range requests, so a stop downloads it again' };
}
