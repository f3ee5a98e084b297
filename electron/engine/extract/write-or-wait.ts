// Writing into a stream with its backpressure honoured, for the extraction stages.
import type { Writable } from 'node:stream';
import { AbortedError } from '../errors';

export /** Writes into a stream, resolving at once or when it drains; rejects if it fails or closes first. */
function writeOrWait(stream: Writable, buf: Buffer): Promise<void> {
  if (stream.write(buf)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(new AbortedError('The extraction was stopped.'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
