// The job's side of its sources: the mirrors of this run (given now, or saved by an earlier run), probed once
// the URL is, and the `sources` events that carry their counts to the window and the NDJSON output.
import type { Dispatcher } from 'undici';
import type { SourceSummary } from '../events';
import { mirrorsForRun } from '../state/saved-mirrors';
import { probe, type ProbeResult } from '../transfer/probe';
import type { RetryPolicy } from '../transfer/retry-policy';
import { SourceSet } from '../transfer/sources/source-set';
import type { ResolvedOptions } from './job-options';
import type { JobEventInput } from './run-context';

export async function openSources(p: {
  options: ResolvedOptions;
  probed: () => ProbeResult;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  policy: RetryPolicy;
  emit: (event: JobEventInput) => void;
  changed: () => void;
  /** The file comes as one stream from the URL (no ranges): the mirrors are kept for later runs, not probed. */
  oneStream: boolean;
}): Promise<SourceSet> {
  const o = p.options;
  const saved = await mirrorsForRun(o.stateDir, o.mirrors);
  if (saved.reused) p.emit({ type: 'warning', code: 'MIRRORS_REUSED', message: `Using the ${saved.mirrors.length} mirror(s) saved by an earlier run of this job.` });
  if (p.oneStream && saved.mirrors.length > 0) {
    p.emit({ type: 'warning', code: 'MIRRORS_UNUSED', message: 'The URL cannot serve byte ranges, so the file comes as one stream from it: the mirrors are not used.' });
  }
  const mirrors = p.oneStream ? [] : saved.mirrors;
  return SourceSet.open(o.url, mirrors, {
    primary: p.probed,
    probe: (url) => probe(url, { dispatcher: p.dispatcher, signal: p.signal, headers: o.headers }),
    checksumGiven: o.sha256 !== null || o.md5 !== null,
    policy: p.policy,
    warn: (code, message) => p.emit({ type: 'warning', code, message }),
    changed: p.changed,
  });
}

/** Counts that moved without a change of state go out at most this often (each is a job snapshot in the window). */
const COUNTS_EVERY_MS = 1_000;

/** Sends a `sources` event when a source changed state, or (at a tick, at most each second) when its counts moved. */
export class SourcesReport {
  private last = '';
  private lastStates = '';
  private lastAt = -Infinity;

  constructor(
    private readonly set: SourceSet,
    private readonly emit: (event: JobEventInput) => void,
  ) {}

  report(): void {
    if (!this.set.hasMirrors) return;
    const sources = this.set.summary();
    const key = JSON.stringify(sources.map((s) => [s.state, s.bytes, s.requests, s.failures]));
    const states = sources.map((s) => s.state).join();
    const now = performance.now();
    if (key === this.last || (states === this.lastStates && now - this.lastAt < COUNTS_EVERY_MS)) return;
    this.last = key;
    this.lastStates = states;
    this.lastAt = now;
    this.emit({ type: 'sources', sources });
  }

  /** For the summary: the sources of a job with mirrors, else nothing. */
  summary(): { sources: SourceSummary[] } | Record<string, never> {
    return this.set.hasMirrors ? { sources: this.set.summary() } : {};
  }
}
