// A parts job as the runners see one job (JobLike): the parts in order into one destination (parts-job.ts),
// its events those of the part that runs under the one job id, plus a `part-state` event per step of a part.
// A part's own end (its job-state done, its done event) is not the job's: only the last part's is, with
// the parts' figures added up.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { IntegrityError, serializeError, toEngineError, UsageError } from '../errors';
import type { AttemptRecord, EngineEvent, JobSummary, PartState, PauseReason } from '../events';
import type { JobOptions } from '../job/job-options';
import { PartsJob, type PartEvent, type PartsSummary } from './parts-job';

export class PartsRun extends EventEmitter {
  readonly id: string;
  private readonly parts: PartsJob;
  private readonly hasChecksum: boolean[];

  constructor(options: JobOptions, id?: string) {
    super();
    this.id = id ?? randomUUID();
    const list = options.parts ?? [];
    if (list.length === 0 || !options.dest) throw new UsageError('A parts job needs its parts and a destination folder.');
    this.hasChecksum = list.map((p) => !!(p.sha256 || p.md5));
    const { parts: _parts, url: _url, dest, stateDir, force, sha256: _s, md5: _m, ...common } = options;
    this.parts = new PartsJob({ parts: list, dest, stateDir, force: force ?? false, common });
    this.parts.on('event', (e: PartEvent) => this.onPartEvent(e));
  }

  private send(e: EngineEvent): void {
    this.emit('event', e);
  }

  private partState(index: number, state: PartState, checksum: 'ok' | 'mismatch' | null = null): void {
    this.send({ type: 'part-state', jobId: this.id, at: Date.now(), index, state, checksum });
  }

  private onPartEvent(e: PartEvent): void {
    if (e.type === 'part') {
      if (e.state === 'started') this.partState(e.index, 'downloading');
      else this.partState(e.index, 'done', this.hasChecksum[e.index] ? 'ok' : null);
      return;
    }
    const { part, ...event } = e as EngineEvent & { part: number };
    // The part's end is not the job's.
    if (event.type === 'done') return;
    if (event.type === 'job-state' && (event.state === 'done' || event.state === 'failed' || event.state === 'cancelled')) return;
    if (event.type === 'error') return;
    if (event.type === 'job-state' && event.state === 'verifying') this.partState(part, 'verifying');
    this.send({ ...event, jobId: this.id } as EngineEvent);
  }

  async run(): Promise<JobSummary> {
    let current = -1;
    const onStart = (e: PartEvent) => {
      if (e.type === 'part' && e.state === 'started') current = e.index;
    };
    this.parts.on('event', onStart);
    try {
      const summary = sum(await this.parts.run());
      // The figures so far were the last part's: the job's are all the parts'.
      const size = summary.bytesTotal ?? summary.bytesFetched;
      this.send({
        type: 'progress',
        jobId: this.id,
        at: Date.now(),
        bytesTotal: summary.bytesTotal,
        bytesFetched: summary.bytesFetched,
        bytesCommitted: size,
        bytesConsumed: size,
        bytesWritten: summary.bytesWritten,
        downloadRate: 0,
        extractRate: 0,
        retries: summary.retries,
      });
      this.send({ type: 'job-state', jobId: this.id, at: Date.now(), state: 'done' });
      this.send({ type: 'done', jobId: this.id, at: Date.now(), ...summary });
      return summary;
    } catch (err) {
      const e = toEngineError(err);
      if (current >= 0) this.partState(current, 'failed', e instanceof IntegrityError ? 'mismatch' : null);
      const error = serializeError(e);
      const cancelled = e.code === 'E_ABORTED';
      this.send({ type: 'job-state', jobId: this.id, at: Date.now(), state: cancelled ? 'cancelled' : 'failed', error });
      this.send({ type: 'error', jobId: this.id, at: Date.now(), error });
      throw e;
    } finally {
      this.parts.off('event', onStart);
    }
  }

  pause(reason: PauseReason): void {
    this.parts.pause(reason);
  }
  resume(): void {
    this.parts.resume();
  }
  cancel(): void {
    this.parts.cancel();
  }
  retryChunkNow(index: number): void {
    this.parts.retryChunkNow(index);
  }
  chunkHistory(index: number): AttemptRecord[] {
    return this.parts.chunkHistory(index);
  }
  setRateLimit(bytesPerSecond: number | null): void {
    this.parts.setRateLimit(bytesPerSecond);
  }
  replaceUrl(url: string): Promise<void> {
    return this.parts.replaceUrl(url);
  }
}

/** The parts' summaries as one: bytes, entries and retries added up, the last part's mode and format. */
function sum(s: PartsSummary): JobSummary {
  const list = s.parts.map((p) => p.summary);
  const last = list[list.length - 1]!;
  const add = (pick: (x: JobSummary) => number | undefined) => list.reduce((n, x) => n + (pick(x) ?? 0), 0);
  const byCode: Record<string, number> = {};
  for (const x of list) for (const [code, n] of Object.entries(x.skippedByCode)) byCode[code] = (byCode[code] ?? 0) + n;
  return {
    bytesTotal: list.every((x) => x.bytesTotal !== null) ? add((x) => x.bytesTotal ?? 0) : null,
    bytesFetched: add((x) => x.bytesFetched),
    bytesWritten: add((x) => x.bytesWritten),
    retries: add((x) => x.retries),
    stallReplacements: add((x) => x.stallReplacements),
    elapsedMs: s.elapsedMs,
    entries: add((x) => x.entries),
    skipped: list.flatMap((x) => x.skipped).slice(0, 50),
    skippedTotal: add((x) => x.skippedTotal),
    skippedByCode: byCode,
    sha256: null,
    mode: last.mode,
    format: last.format,
  };
}
