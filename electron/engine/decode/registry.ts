// Which decoder unpacks which format. The extractor asks here and knows formats by nothing else: a format
// with a resumable decoder is decoded synchronously and can be checkpointed; one without is streamed by
// decompress.ts and says why it cannot be.
//
// Each decoder's code is loaded by the first job that needs it (a .tar.gz job never compiles the zstd decoder,
// a download-only job none): the start before a job's first request is paid on every run.
import type { ExtractFormat } from '../extract/extract-types';
import type { DecoderFactory, DecoderOptions } from './resumable-decoder';

const RESUMABLE: Partial<Record<ExtractFormat, () => DecoderFactory>> = {
  tar: () => (require('./identity-decoder') as typeof import('./identity-decoder')).identityDecoderFactory,
  gzip: () => (require('./gzip/gzip-decoder') as typeof import('./gzip/gzip-decoder')).gzipDecoderFactory,
  lz4: () => (require('./lz4/lz4-decoder') as typeof import('./lz4/lz4-decoder')).lz4DecoderFactory,
  zstd: () => zstdFactory(),
};

let defaultZstd: DecoderFactory | null = null;
function zstdFactory(maxWindowBytes?: number): DecoderFactory {
  const { zstdDecoderFactory } = require('./zstd/factory') as typeof import('./zstd/factory');
  if (maxWindowBytes !== undefined) return zstdDecoderFactory({ maxWindowBytes });
  defaultZstd ??= zstdDecoderFactory();
  return defaultZstd;
}

/** Formats only a streaming decoder unpacks (no state of ours), and why they cannot be checkpointed. */
const STREAM_ONLY: Partial<Record<ExtractFormat, string>> = {};

/** The resumable decoder of a format, or null when it is only streamed; `options` tune it for one job. */
export function resumableDecoder(format: ExtractFormat, options: DecoderOptions = {}): DecoderFactory | null {
  if (format === 'zstd' && options.zstdMaxWindowBytes !== undefined) return zstdFactory(options.zstdMaxWindowBytes);
  return RESUMABLE[format]?.() ?? null;
}

/** Why a format cannot be checkpointed (null when it can). */
export function unresumableReason(format: ExtractFormat): string | null {
  if (RESUMABLE[format]) return null;
  return STREAM_ONLY[format] ?? `no resumable ${format} decoder in this build`;
}

/** False for plain tar, which has nothing for a replacement (streaming) decoder to do. */
export function isCompressed(format: ExtractFormat): boolean {
  return format !== 'tar';
}
