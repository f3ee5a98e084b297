// A resumable decoder driven as a plain stream, its points ignored: what a job without checkpoints uses for
// formats that have no faster streaming decoder of their own (lz4).
import { Transform } from 'node:stream';
import { ArchiveError, EngineError } from '../errors';
import { isDecoderPoint, type DecodedItem, type DecoderFactory, type ResumableDecoder } from './resumable-decoder';

export interface StreamedDecoder {
  stream: Transform;
  consumed(): number;
  /** Trailing garbage after complete frames, found at the end: reported once the output is written. */
  trailingError(): ArchiveError | null;
}

export function streamDecoder(factory: DecoderFactory): StreamedDecoder {
  let decoder: ResumableDecoder | null = null;
  let late: ArchiveError | null = null;
  const ready = async (): Promise<ResumableDecoder> => (decoder ??= await factory.create());
  const emit = (stream: Transform, items: DecodedItem[]) => {
    for (const item of items) if (!isDecoderPoint(item)) stream.push(item);
  };
  const stream = new Transform({
    readableHighWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      ready().then(
        (d) => {
          try {
            emit(this, d.push(chunk));
            cb();
          } catch (err) {
            cb(err as Error);
          }
        },
        (err) => cb(err as Error),
      );
    },
    flush(cb) {
      ready().then(
        (d) => {
          try {
            emit(this, d.finish());
          } catch (err) {
            if (!(err instanceof EngineError) || err.code !== 'E_TRAILING_GARBAGE') return cb(err as Error);
            late = err;
          }
          cb();
        },
        (err) => cb(err as Error),
      );
    },
    destroy(err, cb) {
      decoder?.close();
      cb(err);
    },
  });
  return { stream, consumed: () => decoder?.position ?? 0, trailingError: () => late };
}
