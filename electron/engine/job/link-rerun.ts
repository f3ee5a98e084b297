// A re-run with another URL into the same target (a rotated presigned link: the same object, a new query
// string) continues the job when the new link serves the same object (see same-object.ts); the earlier run
// matched jobs by URL string and fetched everything again. The state is re-pinned to the new link's
// validators; a link that serves something else starts over as before, or, for a replaced link, is refused.
import type { Dispatcher } from 'undici';
import { UpstreamChangedError } from '../errors';
import type { JobStateRecord } from '../state/job-state';
import type { ProbeResult } from '../transfer/probe';
import { redactUrl } from '../transfer/redact';
import { diskSample } from './disk-sample';
import type { ResolvedOptions } from './job-options';
import type { JobEventInput } from './run-context';
import { sameObject } from './same-object';

export async function sameObjectByNewLink(p: {
  options: ResolvedOptions;
  previous: JobStateRecord;
  probed: ProbeResult;
  dispatcher: Dispatcher;
  emit: (event: JobEventInput) => void;
}): Promise<boolean> {
  const { options: o, previous, probed } = p;
  const id = previous.identity;
  // Another chunk size would put the kept chunks at other offsets: that run starts over anyway.
  if (id.chunkSize !== o.chunkSize) return refuseOrStartOver(p, 'the chunk size differs from the earlier run');
  const verdict = await sameObject({
    pinned: { size: id.size, etag: id.etag },
    now: probed,
    sample: () => diskSample({ stateDir: o.stateDir, chunkSize: o.chunkSize, output: o.output, consumedChunks: previous.consumedChunks }),
    dispatcher: p.dispatcher,
    headers: o.headers,
  });
  const checksum = o.sha256 !== null || o.md5 !== null;
  if (verdict.same === false || (verdict.same === null && !checksum)) return refuseOrStartOver(p, verdict.why);
  const detail = verdict.same ? verdict.detail : `same size (${verdict.why}; the checksum verifies the result)`;
  // The same object: its validators are now the new link's (an origin may send other ETag or date forms).
  Object.assign(id, { etag: probed.etag, weakEtag: probed.weakEtag, lastModified: probed.lastModified });
  p.emit({
    type: 'warning',
    code: 'LINK_REPLACED',
    message: `This job ran before with another link (${redactUrl(id.url)}); the new one (${redactUrl(o.url)}) serves the same file (${detail}), so it continues with everything kept.`,
  });
  return true;
}

function refuseOrStartOver(p: { options: ResolvedOptions; previous: JobStateRecord; emit: (event: JobEventInput) => void }, why: string): false {
  const { options: o, previous } = p;
  if (o.replacesLink) {
    throw new UpstreamChangedError(
      `The new link ${redactUrl(o.url)} does not serve the file this job was downloading: ${why}. Nothing was changed; give a link to the same file.`,
      { details: { why } },
    );
  }
  p.emit({
    type: 'warning',
    code: 'LINK_NOT_MATCHED',
    message: `This target was being filled from ${redactUrl(previous.identity.url)}; ${redactUrl(o.url)} could not be shown to serve the same file (${why}), so this run starts from the beginning.`,
  });
  return false;
}
