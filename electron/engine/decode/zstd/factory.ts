// The zstd entry for the decoder registry: fresh at the file's first byte or rebuilt from a saved point.
import type { DecoderFactory } from '../resumable-decoder';
import { ZstdDecoder, type ZstdDecoderOptions } from './zstd-decoder';

export function zstdDecoderFactory(options: ZstdDecoderOptions = {}): DecoderFactory {
  return {
    format: 'zstd',
    create: (resume) => new ZstdDecoder(options, resume),
  };
}

export { ZstdDecoder, type ZstdDecoderOptions } from './zstd-decoder';
