// Whether another link (a fresh presigned URL, a re-run's URL, a mirror) serves the very object this job
// holds bytes of: the same size, then the same strong ETag where both give one; otherwise a sample of bytes
// on disk fetched again from the new link and compared. Nothing from a link that fails this is ever kept.
import type { Dispatcher } from 'undici';
import { fetchRange } from '../transfer/range-fetch';
import type { ProbeResult } from '../transfer/probe';
import type { HeaderSet } from '../transfer/origin-headers';
import type { DiskSample } from './disk-sample';

export type SameObjectVerdict =
  | { same: true; how: 'etag' | 'sample'; detail: string }
  | { same: false; why: string }
  /** Neither an ETag both agree on nor a byte on disk to compare: the caller decides (a checksum may vouch). */
  | { same: null; why: string };

export interface Pinned {
  size: number | null;
  etag: string | null;
}

export async function sameObject(p: {
  pinned: Pinned;
  now: ProbeResult;
  sample: () => Promise<DiskSample | null>;
  dispatcher: Dispatcher;
  headers: HeaderSet | null;
  signal?: AbortSignal;
}): Promise<SameObjectVerdict> {
  const { pinned, now } = p;
  if (pinned.size !== now.size) return { same: false, why: `it serves ${now.size ?? 'an unknown number of'} bytes, not ${pinned.size}` };
  if (!now.rangeSupported) return { same: false, why: 'it does not serve ranges' };
  if (pinned.etag && now.etag) {
    return pinned.etag === now.etag ? { same: true, how: 'etag', detail: `same size and ETag ${now.etag}` } : { same: false, why: `its ETag is ${now.etag}, not ${pinned.etag}` };
  }
  const sample = await p.sample();
  if (!sample) return { same: null, why: 'no ETag to compare and no bytes on disk yet to compare with' };
  const got = await fetchSample(p, sample);
  if (got.equals(sample.bytes)) {
    return { same: true, how: 'sample', detail: `same size, and the ${sample.bytes.length} bytes at offset ${sample.offset} (from a ${sample.from}) are identical` };
  }
  return { same: false, why: `the ${sample.bytes.length} bytes at offset ${sample.offset} differ from those this job holds` };
}

/** The sample's range from the new link, into memory. */
async function fetchSample(p: { now: ProbeResult; dispatcher: Dispatcher; headers: HeaderSet | null; signal?: AbortSignal }, sample: DiskSample): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let committed = 0;
  await fetchRange({
    dispatcher: p.dispatcher,
    url: p.now.finalUrl,
    start: sample.offset,
    end: sample.offset + sample.bytes.length - 1,
    pinned: { size: p.now.size!, etag: p.now.etag, weakEtag: p.now.weakEtag, lastModified: p.now.lastModified },
    headers: p.headers,
    ...(p.signal ? { signal: p.signal } : {}),
    sink: {
      get committed() {
        return committed;
      },
      async write(data: Buffer) {
        pieces.push(data);
        committed += data.length;
      },
    },
  });
  return Buffer.concat(pieces);
}
