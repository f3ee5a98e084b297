// The resume checkpoint of an extraction: plain JSON (buffers as base64), versioned. The job stores it
// opaquely and reads only the offsets and counters at the top; the rest is for the extractor that
// continues from it (see Extractor.checkpoint and ExtractOptions.resumeFrom): below, what it gives back
// to the decoder and the writer.
import { resumableDecoder } from '../decode/registry';
import type { DecoderFactory, ResumableDecoder } from '../decode/resumable-decoder';
import { EngineError } from '../errors';
import type { EntryHeader, ExtractFormat, SkippedEntry } from './extract-types';
import type { WriterState } from './safe-writer';
import type { FramerSnapshot } from './tar-framer';

/** 2: the decoder's state in `decoder` (any format with a resumable decoder); 1 had a `gzip` field. */
export const EXTRACT_CHECKPOINT_VERSION = 2;

export interface ExtractCheckpoint {
  version: typeof EXTRACT_CHECKPOINT_VERSION;
  format: ExtractFormat;
  /** Resume by feeding the compressed stream from this byte, inclusive. */
  compressedOffset: number;
  uncompressedOffset: number;
  /** Members extracted so far. */
  entries: number;
  /** File bytes written so far. */
  bytesWritten: number;
  /** The first skipped / altered members; the counts per code cover all of them (absent in older checkpoints). */
  skipped: SkippedEntry[];
  warnings: SkippedEntry[];
  skippedCounts?: Record<string, number>;
  warningCounts?: Record<string, number>;
  /** The decoder's state at this point, as its factory (decode/registry.ts) rebuilds it. */
  decoder: { format: string; state: unknown };
  tar: TarResumeState;
  /** Directory modes and mtimes still to apply at the end, as [relative path, mode, mtime]. */
  dirMeta: WriterState['dirMeta'];
}

/**
 * The tar stage at the checkpoint. Exactly one of:
 * - `member`: the point lies in a member's data or padding; the framer snapshot is taken there.
 * - `replay`: the point lies in a header sequence (pax / long-name records, a header); the framer
 *   snapshot is the sequence's start and `replay` holds the raw bytes from there to the point.
 * - neither: past the end-of-archive blocks.
 */
export interface TarResumeState {
  framer: FramerSnapshot;
  member: ResumedMember | null;
  /** Base64 of the raw tar bytes from framer.pos up to the checkpoint. */
  replay: string | null;
}

export interface ResumedMember {
  entry: EntryHeader;
  /** The file's path relative to the destination as the writer opened it; null when the data was being skipped. */
  key: string | null;
  /** Data bytes of the member already in the file (its length after the truncate on resume). */
  written: number;
  /** Data bytes still to come, then the padding (framer.remaining - dataRemaining) to skip. */
  dataRemaining: number;
}

/** Why a saved checkpoint cannot be used, or undefined when it looks whole. */
export function extractCheckpointProblem(cp: ExtractCheckpoint): string | undefined {
  if (!cp || typeof cp !== 'object') return 'not an object';
  if (cp.version !== EXTRACT_CHECKPOINT_VERSION) return `version ${String(cp.version)} is not ${EXTRACT_CHECKPOINT_VERSION}`;
  if (typeof cp.format !== 'string' || !resumableDecoder(cp.format)) return `format ${String(cp.format)} cannot be resumed`;
  for (const key of ['compressedOffset', 'uncompressedOffset', 'entries', 'bytesWritten'] as const) {
    if (!Number.isSafeInteger(cp[key]) || cp[key] < 0) return `${key} is not a byte count`;
  }
  if (!cp.decoder || typeof cp.decoder !== 'object' || cp.decoder.format !== cp.format || !('state' in cp.decoder)) return 'the decoder state does not match the format';
  const t = cp.tar;
  if (!t || typeof t !== 'object' || !t.framer || typeof t.framer.pos !== 'number') return 'no tar state';
  const replayBytes = t.replay === null ? 0 : Buffer.byteLength(t.replay, 'base64');
  const at = t.framer.pos + replayBytes;
  if (at !== cp.uncompressedOffset) return `the tar state (${at}) is not at the checkpoint's offset (${cp.uncompressedOffset})`;
  if (t.member && t.framer.state !== 'data') return 'a member without a data state';
  if (t.member && (t.member.dataRemaining < 0 || t.member.dataRemaining > t.framer.remaining)) return 'the member state is inconsistent';
  if (!Array.isArray(cp.dirMeta) || !Array.isArray(cp.skipped) || !Array.isArray(cp.warnings)) return 'the writer state is missing';
  return undefined;
}

/** The writer's part of the checkpoint, for a writer continuing from it. */
export function writerStateOf(cp: ExtractCheckpoint): WriterState {
  return {
    entries: cp.entries,
    bytesWritten: cp.bytesWritten,
    skipped: cp.skipped,
    warnings: cp.warnings,
    ...(cp.skippedCounts ? { skippedCounts: cp.skippedCounts } : {}),
    ...(cp.warningCounts ? { warningCounts: cp.warningCounts } : {}),
    dirMeta: cp.dirMeta,
  };
}

/** A fresh decoder, or one rebuilt from the checkpoint's state. */
export async function restoredDecoder(factory: DecoderFactory, resume: ExtractCheckpoint | undefined): Promise<ResumableDecoder> {
  if (!resume) return factory.create();
  try {
    return await factory.create({ compressedOffset: resume.compressedOffset, uncompressedOffset: resume.uncompressedOffset, state: resume.decoder.state });
  } catch (err) {
    // A state its decoder refuses is a bad checkpoint, not a bad archive.
    throw new EngineError('E_JOURNAL', `The extraction checkpoint cannot be used: ${(err as Error).message}`, { cause: err, details: { offset: resume.compressedOffset } });
  }
}
