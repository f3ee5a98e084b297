// A new job from the operator's input: its engine options (the input, else the settings) and its first
// record, the one the window shows until the engine's events arrive.
import type { JobOptions } from '../engine/runner/runner';
import { emptyProgress, type JobRecord } from './job-model';
import type { Settings } from '../../shared/contract';
import { requestHeaders } from './job-headers';
import { HostError } from './host-error';

export interface AddJobInput {
  url: string;
  dest?: string | undefined;
  output?: string | undefined;
  sha256?: string | undefined;
  mirrors?: string[] | undefined;
  format?: 'auto' | 'tar' | 'gzip' | 'lz4' | 'zstd' | undefined;
  chunkSize?: number | undefined;
  window?: number | undefined;
  concurrency?: number | undefined;
  limitRate?: number | undefined;
  retries?: number | undefined;
  idleTimeoutMs?: number | undefined;
  zstdMaxWindow?: number | undefined;
  strict?: boolean | undefined;
  force?: boolean | undefined;
  /** `Name: value` lines (see job-headers.ts). */
  headers?: string[] | undefined;
  refreshUrlCommand?: string | undefined;
}

/** `engineOptions` are the manager's own (tests shorten retry delays); the input and the settings win over them. */
export function newJob(
  id: string,
  input: AddJobInput,
  s: Settings,
  engineOptions: Partial<Omit<JobOptions, 'url' | 'dest' | 'output' | 'stateDir'>> | undefined,
  stateDir: string,
  at: number,
): { options: JobOptions; record: JobRecord } {
  const window = input.window ?? s.window;
  if (input.concurrency !== undefined && input.concurrency > window) {
    // The contract refuses both given; here the window is the settings' one. Said on the field, not as a job that fails at once.
    const message = `parallel connections (${input.concurrency}) cannot exceed the window (${window} chunks on disk): every range in flight needs a window slot`;
    throw new HostError('E_VALIDATION', `Invalid addJob request: concurrency: ${message}`, { issues: [{ path: 'concurrency', message }] });
  }
  const headers = requestHeaders(input.url, input.headers);
  const refreshUrlCommand = input.refreshUrlCommand?.trim() || null;
  const options: JobOptions = {
    ...engineOptions,
    // The window can give a fresh link: an expired one pauses the job rather than ending it.
    onLinkExpired: 'wait',
    url: input.url,
    ...(input.dest !== undefined ? { dest: input.dest } : {}),
    ...(input.output !== undefined ? { output: input.output } : {}),
    stateDir,
    chunkSize: input.chunkSize ?? s.chunkSize,
    window,
    concurrency: input.concurrency ?? Math.min(s.concurrency, window),
    retries: input.retries ?? s.retries,
    idleTimeoutMs: input.idleTimeoutMs ?? engineOptions?.idleTimeoutMs ?? s.idleTimeoutMs,
    format: input.format ?? 'auto',
    strict: input.strict ?? false,
    force: input.force ?? false,
    ...(input.limitRate !== undefined ? { limitRate: input.limitRate } : s.limitRate !== null ? { limitRate: s.limitRate } : {}),
    ...(input.sha256 !== undefined ? { sha256: input.sha256.toLowerCase() } : {}),
    // Saved owner-only with the job's state by the engine, so a restart of the job uses them too.
    ...(input.mirrors !== undefined && input.mirrors.length > 0 ? { mirrors: input.mirrors } : {}),
    ...(input.zstdMaxWindow !== undefined ? { zstdMaxWindow: input.zstdMaxWindow } : {}),
    ...(headers ? { headers } : {}),
    ...(refreshUrlCommand ? { refreshUrlCommand } : {}),
  };
  const record: JobRecord = {
    id,
    url: input.url,
    dest: input.dest ?? null,
    output: input.output ?? null,
    state: 'probing',
    pauseReason: null,
    error: null,
    createdAt: at,
    updatedAt: at,
    probe: null,
    decoding: null,
    progress: emptyProgress(),
    summary: null,
    options: {
      chunkSize: options.chunkSize ?? null,
      window: options.window ?? null,
      concurrency: options.concurrency ?? null,
      limitRate: options.limitRate ?? null,
      retries: options.retries ?? null,
      idleTimeoutMs: options.idleTimeoutMs ?? null,
      format: options.format ?? 'auto',
      sha256: options.sha256 ?? null,
      strict: options.strict ?? false,
      force: options.force ?? false,
      ...(headers ? { headerNames: headers.entries.map(([name]) => name) } : {}),
      ...(refreshUrlCommand ? { refreshCommand: true } : {}),
    },
    warnings: 0,
    chunkMap: '',
  };
  return { options, record };
}
