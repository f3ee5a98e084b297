// Before a job starts: the checksums published beside its file fill in what the operator did not give
// (checksum/sidecar.ts, checksum-choice.ts). Runs outside the job, with its own short-lived connections, so a
// slow or missing sidecar costs at most its timeout and never fails the job.
import { createDispatcher } from '../transfer/http';
import { chooseChecksums, type ChecksumChoice } from '../checksum/checksum-choice';
import { parseChecksumArg } from '../checksum/checksum-text';
import { lookupSidecar, SIDECAR_TIMEOUT_MS } from '../checksum/sidecar';
import { JOB_DIGESTS, type JobOptions } from './job-options';

export type SidecarWarning = ChecksumChoice['warnings'][number];

/** `options` with the sidecar's checksums added where none was given; the explicit ones normalised to hex. */
export async function withSidecarChecksums(
  options: JobOptions,
  settings: { timeoutMs?: number; onWarning?: (w: SidecarWarning) => void; signal?: AbortSignal } = {},
): Promise<JobOptions> {
  const explicit = {
    sha256: options.sha256 ? parseChecksumArg(options.sha256, 'sha256') : null,
    md5: options.md5 ? parseChecksumArg(options.md5, 'md5') : null,
  };
  const timeoutMs = settings.timeoutMs ?? SIDECAR_TIMEOUT_MS;
  const dispatcher = createDispatcher({ connections: 2, connectTimeoutMs: timeoutMs, idleTimeoutMs: timeoutMs });
  try {
    const found = await lookupSidecar(options.url, { dispatcher, timeoutMs, headers: options.headers ?? null, ...(settings.signal ? { signal: settings.signal } : {}) });
    const choice = chooseChecksums(explicit, found, JOB_DIGESTS);
    for (const w of choice.warnings) settings.onWarning?.(w);
    const { sha256: _s, md5: _m, ...rest } = options;
    return { ...rest, ...(choice.sha256 ? { sha256: choice.sha256 } : {}), ...(choice.md5 ? { md5: choice.md5 } : {}) };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}
