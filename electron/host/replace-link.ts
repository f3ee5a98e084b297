// The window's "Replace link": a job paused as link-expired (or failed) continues with a fresh link to the
// same file. A running job takes it at once (the engine probes it and refuses one that serves another
// file); a stopped one gets a new run with the link, which continues only if it serves the same object
// (replacesLink: refused, never started over). The link is kept in the job's options (jobs.json, owner-only);
// logs and messages name host and path only.
import type { JobOptions, JobRunner } from '../engine/runner/runner';
import { EngineError, UpstreamChangedError, UsageError } from '../engine/errors';
import { validateUrl } from '../engine/transfer/probe';
import { redactUrl } from '../engine/transfer/redact';
import type { JobModel } from './job-model';
import { JobConflictError } from './job-errors';

export interface ReplaceLinkDeps {
  runner: JobRunner;
  model: JobModel;
  options: JobOptions;
  isRunning: boolean;
  log(text: string): void;
  save(): Promise<void>;
  /** Starts a new run of the stopped job (as Resume does). */
  startAgain(): void;
}

export async function replaceLink(d: ReplaceLinkDeps, url: string): Promise<void> {
  const m = d.model;
  try {
    validateUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const linkExpired = m.state === 'paused' && m.pauseReason === 'link-expired';
  if (!linkExpired && m.state !== 'failed')
    throw new JobConflictError(`The job is ${m.state}${m.pauseReason ? ` (${m.pauseReason})` : ''}; a link is replaced on a job paused as link-expired or failed`, m.id);
  const old = d.options.url;
  if (d.isRunning) {
    const refused = await d.runner.replaceUrl(m.id, url);
    if (refused) {
      d.log(`replace link refused: ${refused.message}`);
      if (refused.code === 'E_UPSTREAM_CHANGED') throw new UpstreamChangedError(refused.message);
      throw new EngineError(refused.code === 'E_CONFLICT' ? 'E_CONFLICT' : 'E_PROBE', refused.message);
    }
    d.options.url = url;
  } else {
    d.options.url = url;
    // The new run must prove it is the same file, never start the target over.
    d.options.replacesLink = true;
    d.startAgain();
  }
  d.log(`link replaced: ${redactUrl(old)} → ${redactUrl(url)}`);
  await d.save();
}
