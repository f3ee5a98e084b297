// Which decoder unpacks which format. The extractor asks here and knows formats by nothing else: a format
// with a resumable decoder is decoded synchronously and can be checkpointed; one without is streamed by
// decompress.ts and says why it cannot be.
import type { ExtractFormat } from '../extract/extract-types';
import { gzipDecoderFactory } from './gzip/gzip-decoder';
import { identityDecoderFactory } from './identity-decoder';
import { lz4DecoderFactory } from './lz4/lz4-decoder';
import type { DecoderFactory, DecoderOptions } from './resumable-decoder';
import { zstdDecoderFactory } from './zstd/factory';

const RESUMABLE: Partial<Record<ExtractFormat, DecoderFactory>> = {
  tar: identityDecoderFactory,
  gzip: gzipDecoderFactory,
  lz4: lz4DecoderFactory,
  zstd: zstdDecoderFactory(),
};

/** Formats only a streaming decoder unpacks (no state of ours), and why they cannot be checkpointed. */
const STREAM_ONLY: Partial<Record<ExtractFormat, string>> = {};

/** The resumable decoder of a format, or null when it is only streamed; `options` tune it for one job. */
export function resumableDecoder(format: ExtractFormat, options: DecoderOptions = {}): DecoderFactory | null {
  if (format === 'zstd' && options.zstdMaxWindowBytes !== undefined) return zstdDecoderFactory({ maxWindowBytes: options.zstdMaxWindowBytes });
  return RESUMABLE[format] ?? null;
}

/** Why a format cannot be checkpointed (null when it can). */
export function unresumableReason(format: ExtractFormat): string | null {
  if (RESUMABLE[format]) return null;
  return STREAM_ONLY[format] ?? `no resumable ${format} decoder in this build`;
}

/** False for plain tar, which has nothing for a replacement (streaming) decoder to do. */
export function isCompressed(format: ExtractFormat): boolean {
  return RESUMABLE[format] !== identityDecoderFactory;
}
