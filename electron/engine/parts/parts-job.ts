// A snapshot in parts: one Job per part, in order, into the same destination. Finished parts are recorded
// (parts.json) and skipped by a restart; the current part resumes from its own state folder (part-NNNN/).
// Free space is checked once for the sum of what is left. A wrong checksum stops the run naming the part;
// the parts before it stay.
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EngineError, IntegrityError, toEngineError } from '../errors';
import type { AttemptRecord, EngineEvent, JobSummary, PauseReason } from '../events';
import { Job } from '../job/job';
import { resolveOptions, type JobOptions } from '../job/job-options';
import { checkFreeSpace } from '../space/space-check';
import { JobLock, type FileLock } from '../state/job-lock';
import { redactUrl } from '../transfer/redact';
import type { ManifestPart } from './manifest';
import { loadPartsRecord, partStateDirName, savePartsRecord, urlHash, type PartsRecord } from './parts-record';

export interface PartsJobOptions {
  parts: ManifestPart[];
  dest: string;
  /** The parts job's own state folder; each part's state is a folder in it. */
  stateDir: string;
  /** What every part's job gets (chunk size, window, headers, ...); url, dest, stateDir and checksums are per part. */
  common?: Partial<JobOptions>;
  /** --force for the first part (a destination that is not empty and not this job's). */
  force?: boolean;
}

export type PartEvent =
  | { type: 'part'; index: number; count: number; state: 'skipped' | 'started' | 'done'; url: string; name: string | null; at: number }
  | (EngineEvent & { part: number });

export interface PartsSummary {
  parts: Array<{ index: number; skipped: boolean; summary: JobSummary }>;
  elapsedMs: number;
}

export function describePart(part: ManifestPart, count: number): string {
  return `part ${part.index + 1} of ${count} (${part.name ?? redactUrl(part.url).split('/').pop()})`;
}

export class PartsJob extends EventEmitter {
  private current: Job | null = null;
  private cancelled = false;

  constructor(private readonly o: PartsJobOptions) {
    super();
    // Every part's options are checked before anything runs: a bad checksum in part 9 must not wait for 8 parts.
    for (const part of o.parts) resolveOptions(this.optionsFor(part, false));
  }

  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
  }

  // The controls of one job act on the part that runs; a pause holds across the step to the next part.
  private pausedFor: PauseReason | null = null;

  pause(reason: PauseReason): void {
    this.pausedFor = reason;
    this.current?.pause(reason);
  }

  resume(): void {
    this.pausedFor = null;
    this.current?.resume();
  }

  retryChunkNow(index: number): void {
    this.current?.retryChunkNow(index);
  }

  chunkHistory(index: number): AttemptRecord[] {
    return this.current?.chunkHistory(index) ?? [];
  }

  setRateLimit(bytesPerSecond: number | null): void {
    const { limitRate: _old, ...rest } = this.o.common ?? {};
    this.o.common = bytesPerSecond === null ? rest : { ...rest, limitRate: bytesPerSecond };
    this.current?.setRateLimit(bytesPerSecond);
  }

  async replaceUrl(url: string): Promise<void> {
    if (!this.current) throw new EngineError('E_CONFLICT', 'No part is running to take a new link.');
    await this.current.replaceUrl(url);
  }

  private optionsFor(part: ManifestPart, force: boolean): JobOptions {
    const c = this.o.common ?? {};
    return {
      ...c,
      url: part.url,
      dest: this.o.dest,
      stateDir: join(this.o.stateDir, partStateDirName(part.index)),
      ...(part.sha256 ? { sha256: part.sha256 } : {}),
      ...(part.md5 ? { md5: part.md5 } : {}),
      // Scoped to the origin they were given for: a part on another host (a CDN) gets none of them.
      headers: c.headers ?? null,
      force,
      // The record of a completed part is parts.json: a completion record per target would name one part only.
      completionDir: null,
      keepState: false,
    };
  }

  async run(): Promise<PartsSummary> {
    const started = Date.now();
    const o = this.o;
    const count = o.parts.length;
    await fsp.mkdir(o.stateDir, { recursive: true, mode: 0o700 });
    const lock: FileLock = await JobLock.acquire(o.stateDir, { target: o.dest });
    try {
      const earlier = await loadPartsRecord(o.stateDir);
      const record: PartsRecord = { version: 1, count, done: (earlier?.done ?? []).filter((d) => o.parts[d.index] && urlHash(o.parts[d.index]!.url) === d.urlSha256) };
      const isDone = (p: ManifestPart) => record.done.some((d) => d.index === p.index);
      await this.checkSpace(o.parts.filter((p) => !isDone(p)));
      const out: PartsSummary['parts'] = [];
      for (const part of o.parts) {
        if (this.cancelled) throw new EngineError('E_ABORTED', 'The parts job was cancelled; parts done so far are kept, running it again continues.');
        const base = { index: part.index, count, url: redactUrl(part.url), name: part.name, at: Date.now() };
        const done = record.done.find((d) => d.index === part.index);
        if (done) {
          this.emit('event', { type: 'part', state: 'skipped', ...base } satisfies PartEvent);
          out.push({ index: part.index, skipped: true, summary: done.summary });
          continue;
        }
        this.emit('event', { type: 'part', state: 'started', ...base } satisfies PartEvent);
        // Parts after the first extract into a folder the parts before them filled: this job owns it. A
        // first part that has begun (earlier run) owns it too (its state says so).
        const force = part.index === 0 ? (o.force ?? false) : true;
        const summary = await this.runPart(part, force, count);
        record.done.push({ index: part.index, urlSha256: urlHash(part.url), completedAt: Date.now(), summary });
        await savePartsRecord(o.stateDir, record);
        this.emit('event', { type: 'part', state: 'done', ...base, at: Date.now() } satisfies PartEvent);
        out.push({ index: part.index, skipped: false, summary });
      }
      return { parts: out, elapsedMs: Date.now() - started };
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  private async runPart(part: ManifestPart, force: boolean, count: number): Promise<JobSummary> {
    const job = new Job(this.optionsFor(part, force));
    this.current = job;
    job.on('event', (e: EngineEvent) => this.emit('event', { ...e, part: part.index } as PartEvent));
    try {
      const running = job.run();
      // After run() has said "probing", so that the pause is the state the part is left in.
      if (this.pausedFor) job.pause(this.pausedFor);
      return await running;
    } catch (err) {
      const e = toEngineError(err);
      const what = describePart(part, count);
      if (e instanceof IntegrityError) throw new IntegrityError(`${what}: ${e.message} The parts before it are kept.`, { cause: e, details: { ...e.details, part: part.index } });
      throw new EngineError(e.code, `${what}: ${e.message}`, { cause: e, retryable: e.retryable, details: { ...e.details, part: part.index } });
    } finally {
      this.current = null;
    }
  }

  /**
   * The parts left need at least their archive sizes in the destination (what they extract to is larger;
   * each part's job checks its own window). Parts without a size count as nothing here.
   */
  private async checkSpace(left: ManifestPart[]): Promise<void> {
    const bytes = left.reduce((n, p) => n + (p.size ?? 0), 0);
    await fsp.mkdir(this.o.dest, { recursive: true }).catch(() => undefined);
    await checkFreeSpace([{ path: this.o.dest, bytes, what: `the ${left.length} parts left (their archive sizes)` }]);
  }
}
