// The whole file, or the rest of it, as one stream: for an origin without ranges, or one that stopped honouring
// them mid-job (then `skip` bytes are already in the sink and are read and dropped).
import type { Dispatcher } from 'undici';
import type { ResumableDigests } from '../checksum/digest-set';
import type { HeaderSet } from '../transfer/origin-headers';
import type { ProbeResult } from '../transfer/probe';
import type { RateLimiter } from '../transfer/rate-limiter';
import { readSingleStream } from '../transfer/single-stream';
import type { JobCounters } from './run-context';
import type { StreamSink } from './sinks';

/** Streams the file from `skip` into the sink; returns the bytes it holds then. */
export async function streamRest(p: {
  dispatcher: Dispatcher;
  headers: HeaderSet | null;
  probed: ProbeResult;
  skip: number;
  cancelSignal: AbortSignal;
  limiter: RateLimiter | null;
  counters: JobCounters;
  hasher: ResumableDigests | null;
  sink: StreamSink;
  whileRunning: () => Promise<void>;
}): Promise<number> {
  const controller = new AbortController();
  const onCancel = () => controller.abort(p.cancelSignal.reason);
  p.cancelSignal.addEventListener('abort', onCancel, { once: true });
  try {
    await p.whileRunning();
    return await readSingleStream({
      dispatcher: p.dispatcher,
      headers: p.headers,
      url: p.probed.finalUrl,
      pinned: p.probed,
      skip: p.skip,
      signal: controller.signal,
      limiter: p.limiter,
      onBytes: (n) => {
        p.counters.bytesFetched += n;
      },
      onData: async (piece) => {
        p.hasher?.update(piece);
        await p.sink.write(piece);
      },
    });
  } finally {
    p.cancelSignal.removeEventListener('abort', onCancel);
  }
}
