// `get <url>`: one job, its events on the terminal or as NDJSON, its interrupts and its summary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serializeError, formatBytes } from '../engine/errors';
import type { EngineEvent, JobSummary, SourceSummary } from '../engine/events';
import { Job } from '../engine/job/job';
import { resolveOptions, type JobOptions } from '../engine/job/job-options';
import { formatDuration, formatRate } from '../engine/units';
import { describeHeaders } from '../engine/transfer/origin-headers';
import { clearHeaders, headersForRun } from '../engine/state/saved-headers';
import { JOB_FILE } from '../engine/state/layout';
import { withSidecarChecksums } from '../engine/job/sidecar-options';
import { decodingLine } from '../../shared/resume-words';
import { connectingText } from '../../shared/connecting';
import { isDiskFull, waitingLine, waitOutFullDisk } from './disk-full';
import { watchInterrupts } from './signals';
import { USAGE } from './usage';
import { EXIT, exitCodeFor, reportFailure } from './exit-codes';
import { wantsHelp, parseGetArgs } from './get-args';
import { ProgressLine } from './progress-line';

export async function runGet(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(USAGE + '\n');
    return EXIT.ok;
  }
  let json = false;
  let job: Job;
  let options: JobOptions;
  let stateDir: string | null = null;
  let headersSaved = false;
  // Notes before the job exists (sidecar checksums, reused headers): the same shape as the job's warnings.
  const note = (code: string, message: string) => {
    if (json) process.stdout.write(JSON.stringify({ type: 'warning', code, message, at: Date.now() }) + '\n');
    else process.stderr.write(`${code === 'SIDECAR_USED' || code === 'HEADERS_REUSED' ? 'note' : 'warning'} ${code}: ${message}\n`);
  };
  try {
    const parsed = parseGetArgs(argv);
    json = parsed.json;
    if (parsed.manifest !== null) return await (require('./run-parts') as typeof import('./run-parts')).runParts(parsed.manifest, parsed.options, parsed.headerArgs, json);
    options = parsed.options;
    // Checked before anything is written or fetched (a bad option must not leave a headers file behind).
    resolveOptions(options);
    stateDir = options.stateDir;
    const run = await headersForRun(options.stateDir, options.headers ?? null);
    headersSaved = !!options.headers;
    if (run.reused) note('HEADERS_REUSED', `Sending the request headers saved by an earlier run of this job (${describeHeaders(run.headers)}).`);
    options = { ...options, headers: run.headers };
    if (parsed.sidecar) options = await withSidecarChecksums(options, { onWarning: (w) => note(w.code, w.message) });
    job = new Job(options);
  } catch (err) {
    await forgetUnusedHeaders(stateDir, headersSaved);
    return reportFailure(err, json);
  }
  const progress = !json && process.stderr.isTTY ? new ProgressLine(process.stderr) : null;
  let terminal = false;
  const onEvent = (e: EngineEvent) => {
    if (terminal) return;
    // A full destination is a pause, not the end (see cli/disk-full.ts): its failure is not reported.
    if (e.type === 'error' && e.error.code === 'E_DISK_FULL') return;
    if (e.type === 'job-state' && e.state === 'failed' && e.error?.code === 'E_DISK_FULL') return;
    if (json) {
      if (e.type === 'error') {
        terminal = true;
        process.stdout.write(JSON.stringify({ type: 'error', ...e.error, jobId: e.jobId, at: e.at }) + '\n');
      } else {
        if (e.type === 'done') terminal = true;
        process.stdout.write(JSON.stringify(e) + '\n');
      }
      return;
    }
    progress?.update(e);
    if (e.type === 'warning') {
      // A resume or files kept from an earlier run is good news, not a warning.
      const word = e.code === 'RESUMED' || e.code === 'FILES_KEPT' ? 'note' : 'warning';
      process.stderr.write(`${progress ? '\n' : ''}${word} ${e.code}${e.entry ? ` (${e.entry})` : ''}: ${e.message}\n`);
    }
    if (e.type === 'decoding') process.stderr.write(`${progress ? '\n' : ''}format ${decodingLine(e)}\n`);
    if (e.type === 'connect-retry') {
      // The origin does not answer: say so as it happens, naming the host (not a silent wait, then a failure).
      process.stderr.write(`${progress ? '\n' : ''}${connectingText(e, e.at)}\n`);
    }
    if (e.type === 'probed' && !progress) {
      process.stderr.write(
        `${e.finalUrl}: ${e.size === null ? 'unknown size' : formatBytes(e.size)}, ${e.mode === 'ranged' ? `${e.chunkCount} chunks of ${formatBytes(e.chunkSize)}` : 'no range support: one stream, cannot resume mid-way'}\n`,
      );
    }
  };
  job.on('event', onEvent);
  // Ctrl-C stops the job, or the wait for free space after a full destination (see cli/signals.ts).
  const stop = new AbortController();
  const interrupts = watchInterrupts(
    () => {
      stop.abort();
      job.cancel();
    },
    () => process.exit(EXIT.interrupted),
  );
  try {
    for (;;) {
      try {
        const summary = await job.run();
        progress?.end();
        if (!json) printSummary(summary);
        return EXIT.ok;
      } catch (err) {
        if (!isDiskFull(err) || stop.signal.aborted) throw err;
        await waitOutFullDisk(options, err, stop.signal, (need) => {
          if (json) {
            const at = Date.now();
            process.stdout.write(JSON.stringify({ type: 'job-state', state: 'paused', reason: 'disk-full', error: serializeError(err), jobId: job.id, at }) + '\n');
            process.stdout.write(
              JSON.stringify({
                type: 'warning',
                code: 'WAITING_FOR_SPACE',
                message: waitingLine(need),
                path: need.path,
                bytesNeeded: need.bytes,
                bytesFree: need.free,
                jobId: job.id,
                at,
              }) + '\n',
            );
          } else {
            progress?.update({ type: 'job-state', state: 'paused', reason: 'disk-full', jobId: job.id, at: Date.now() });
            process.stderr.write(`${progress ? '\n' : ''}paused (disk-full): ${err.message}\n${waitingLine(need)}\n`);
          }
        });
        if (!json) process.stderr.write('Space is free again: continuing from the last checkpoint.\n');
        // The same job again (same id): its state continues it; --restart was for the first run only.
        job = new Job({ ...options, restart: false }, job.id);
        job.on('event', onEvent);
      }
    }
  } catch (err) {
    progress?.end();
    await forgetUnusedHeaders(stateDir, headersSaved);
    if (json) {
      // An interrupted wait for space has no job event of its own: its verdict line.
      if (!terminal) process.stdout.write(JSON.stringify({ type: 'error', ...serializeError(err), jobId: job.id, at: Date.now() }) + '\n');
      return exitCodeFor(err);
    }
    return reportFailure(err, false);
  } finally {
    interrupts.dispose();
  }
}

/** Headers saved by a run that never got as far as a job state (refused before it started) are not kept. */
export async function forgetUnusedHeaders(stateDir: string | null, saved: boolean): Promise<void> {
  if (!stateDir || !saved || existsSync(join(stateDir, JOB_FILE))) return;
  await clearHeaders(stateDir).catch(() => undefined);
}

export function printSummary(s: JobSummary): void {
  // The rate of what this run received: a re-run that found everything done fetched nothing (it said "7.5 GiB/s").
  const rate = s.bytesFetched === 0 ? 'nothing left to fetch' : s.elapsedMs > 0 ? `${formatRate(s.bytesFetched / (s.elapsedMs / 1000))} received` : '-';
  process.stderr.write(
    `done: ${formatBytes(s.bytesTotal ?? s.bytesFetched)} in ${formatDuration(s.elapsedMs)} (${rate}), ${s.entries} entries, ${formatBytes(s.bytesWritten)} written, ${s.retries} retries` +
      (s.stallReplacements ? `, ${s.stallReplacements} stalled connections replaced` : '') +
      (s.sha256 ? `, sha256 ${s.sha256}` : '') +
      '\n',
  );
  for (const src of s.sources ?? []) process.stderr.write(`  ${sourceLine(src)}\n`);
  for (const k of s.skipped) process.stderr.write(`  skipped ${k.entry}: ${k.code} ${k.reason}\n`);
  const total = s.skippedTotal ?? s.skipped.length;
  if (total > s.skipped.length) {
    const byCode = Object.entries(s.skippedByCode ?? {})
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    process.stderr.write(`  ... ${total} skipped in all (${byCode}); the first ${s.skipped.length} are listed\n`);
  }
}

/** One source of a job with mirrors in the final summary: host (no query string), bytes, requests, state. */
export function sourceLine(src: SourceSummary): string {
  const state = src.state === 'active' ? 'ok' : src.state === 'benched' ? 'benched' : 'dropped';
  const why = src.state !== 'active' && src.reason ? `: ${src.reason}` : '';
  return `${src.role} ${src.host}: ${formatBytes(src.bytes)} in ${src.requests} requests, ${src.failures} failures, ${state}${why}`;
}
