// Which sink a run feeds: the extractor (resumed from the checkpoint, keeping an earlier run's complete files
// where the plan allows, hashing inline only for a single stream) or, for a download, the output file: written
// in place by a ranged run (direct-output-sink.ts), appended to by a single stream.
import type { DigestKind } from '../checksum/checksum-text';
import { expectedKinds } from '../checksum/verify';
import type { DecompressorFactory } from '../decode/decompress';
import type { ResumeGranularity } from '../decode/resumable-decoder';
import type { ArchiveFormat, TransferMode } from '../events';
import type { ResolvedOptions } from './job-options';
import type { RunPlan } from './resume-plan';
import { ExtractSink, OutputFileSink, type StreamSink } from './sinks';
import { DirectOutputSink } from './direct-output-sink';

export async function openSinkFor(
  o: ResolvedOptions,
  plan: RunPlan,
  mode: TransferMode,
  on: {
    onFormat: (format: ArchiveFormat, granularity: ResumeGranularity) => void;
    onWarning: (w: { entry: string; code: string; reason: string }) => void;
  },
  size: number | null,
): Promise<StreamSink> {
  const kinds: DigestKind[] = expectedKinds({ sha256: o.sha256, md5: o.md5 });
  if (!o.dest && mode === 'ranged' && size !== null) {
    // Opened by the ranged run, once the journal says what this run keeps (see ranged-run.ts).
    return new DirectOutputSink({ path: o.output!, size, chunkSize: o.chunkSize, kept: plan.outputKept, kinds });
  }
  if (!o.dest) return OutputFileSink.open(o.output!, 0, kinds);
  const { resumePoint } = plan;
  return new ExtractSink(
    {
      dest: o.dest,
      format: o.format,
      strict: o.strict,
      decoderOptions: { zstdMaxWindowBytes: o.zstdMaxWindow },
      onFormat: on.onFormat,
      onWarning: on.onWarning,
      ...(resumePoint ? { resumeFrom: resumePoint.extract } : {}),
      ...(plan.reuseComplete ? { reuseComplete: true } : {}),
      // Checkpoints off: zlib's streaming gunzip (the fastest decoder), and the extractor then says it cannot checkpoint.
      ...(o.checkpoints ? {} : { decompressor: streamingDecompressor(), decompressorNote: 'checkpoints are turned off for this job' }),
    },
    // A ranged extraction hashes from the chunk files, resumably; a single stream hashes as it goes.
    kinds.length > 0 && mode !== 'ranged' ? kinds : false,
  );
}

/** Loaded only when a job turns checkpoints off. */
function streamingDecompressor(): DecompressorFactory {
  return (require('../decode/decompress') as typeof import('../decode/decompress')).createDecompressor;
}
