// `status`: a job's state from its state folder, whether a process runs it now, and a completed job's record.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, formatBytes } from '../engine/errors';
import { defaultStateDir } from '../engine/job/job';
import { readJobStatus } from '../engine/state/job-status';
import { lockHolder } from '../engine/state/job-lock';
import { redactUrl } from '../engine/transfer/redact';
import { loadCompletion } from '../engine/state/completion-record';
import { appDataDir, completionDirOf } from '../host/app-data-dir';
import { formatName } from '../../shared/resume-words';
import { STATUS_USAGE } from './usage';
import { EXIT, describeError, reportFailure } from './exit-codes';
import { STATUS_OPTIONS, usageFromParseError, wantsHelp } from './get-args';

export async function runStatus(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(STATUS_USAGE + '\n');
    return EXIT.ok;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, options: STATUS_OPTIONS });
  } catch (err) {
    return reportFailure(usageFromParseError(err, [...Object.keys(STATUS_OPTIONS), 'help'], 'status'), false);
  }
  const v = parsed.values;
  const target = v.dest ?? v.output;
  const stateDir = v['state-dir'] ?? (target ? defaultStateDir(resolve(target)) : undefined);
  if (!stateDir) return reportFailure(new UsageError('status needs --state-dir <dir>, or the --dest/--output the job was started with.'), v.json ?? false);
  let report;
  try {
    report = await readJobStatus(resolve(stateDir));
  } catch (err) {
    return reportFailure(err, v.json ?? false);
  }
  if (!report) {
    // A job that completed removes its state (unless --keep-state): its target is then all there is.
    const targetPath = target ? resolve(target) : null;
    const targetThere = targetPath !== null && existsSync(targetPath);
    if (!targetThere) return reportFailure(new UsageError(`No job state in ${resolve(stateDir)}: nothing was started there, or it was another folder.`), v.json ?? false);
    const completed = await loadCompletion(completionDirOf(appDataDir()), targetPath);
    const note = completed
      ? `complete: the job from ${completed.source} finished into ${targetPath} on ${new Date(completed.completedAt).toISOString()} (${completed.summary.entries} entries, ${formatBytes(completed.summary.bytesWritten)} written${completed.summary.skippedTotal ? `, ${completed.summary.skippedTotal} skipped` : ''}); its state folder went when it finished. Nothing is running or left to resume there.`
      : `No job state in ${resolve(stateDir)}, and ${targetPath} exists: a job that completed there removed its state when it finished (run it with --keep-state to keep it). Nothing is running or left to resume there.`;
    if (v.json) {
      const completion = completed ? { source: completed.source, completedAt: completed.completedAt, summary: completed.summary } : null;
      process.stdout.write(JSON.stringify({ state: null, stateDir: resolve(stateDir), target: targetPath, targetExists: true, completed: completion, note }) + '\n');
    } else process.stdout.write(`${note}\n`);
    return EXIT.ok;
  }
  // Whether a process runs the job now: the lock's holder, if it is still alive.
  const lock = await lockHolder(resolve(stateDir));
  const holder = lock?.holder ?? null;
  const running = lock?.alive ? { pid: lock.holder.pid, host: lock.holder.host, since: lock.holder.startedAt } : null;
  if (v.json) {
    // The state keeps the URL it resumes with; what is printed never carries its query (signatures, tokens).
    const identity = { ...report.state.identity, url: redactUrl(report.state.identity.url), finalUrl: redactUrl(report.state.identity.finalUrl) };
    process.stdout.write(JSON.stringify({ ...report, state: { ...report.state, identity }, running }) + '\n');
    return EXIT.ok;
  }
  const { state, checkpoint } = report;
  const id = state.identity;
  const pct = id.size ? ` (${((report.committedBytes / id.size) * 100).toFixed(1)}%)` : '';
  const lines = [
    // A presigned URL's signature is a credential: the query string is not printed.
    `url:         ${redactUrl(id.url)}${id.finalUrl !== id.url ? ` (→ ${redactUrl(id.finalUrl)})` : ''}`,
    `target:      ${id.target} (${id.mode === 'extract' ? 'extract' : 'download only'})`,
    `size:        ${id.size === null ? 'unknown' : formatBytes(id.size)} in ${report.chunkCount} chunks of ${formatBytes(id.chunkSize)}; ETag ${id.etag ?? '-'}; Last-Modified ${id.lastModified ?? '-'}`,
    `running:     ${
      running
        ? `yes, in process ${running.pid} on ${running.host} since ${new Date(running.since).toISOString()}`
        : state.complete
          ? 'no (complete)'
          : `no${holder ? ` (process ${holder.pid}, which held it, is gone)` : ''}: run the same get again to resume`
    }`,
    `progress:    ${state.complete ? 'complete' : `${formatBytes(report.committedBytes)} committed${pct}`}`,
    `checkpoint:  ${
      checkpoint
        ? `byte ${checkpoint.compressedOffset} of the source (${formatName(checkpoint.format)}), ${formatBytes(checkpoint.bytesWritten)} written in ${checkpoint.entries} entries, saved ${new Date(checkpoint.savedAt).toISOString()}`
        : state.complete || id.mode === 'download'
          ? '-'
          : 'none yet (a restart extracts from the beginning)'
    }`,
    `staged:      ${report.stagedChunks.length ? report.stagedChunks.join(', ') : '-'}`,
    `updated:     ${new Date(state.updatedAt).toISOString()}`,
  ];
  for (const f of report.failedChunks) {
    lines.push(`chunk ${f.index}: ${f.attempts.length} failed attempt(s)`);
    for (const a of f.attempts) {
      lines.push(
        `  #${a.attempt} ${new Date(a.startedAt).toISOString()} HTTP ${a.status ?? '-'} ${a.bytes} bytes ${a.durationMs} ms: ${a.error ? describeError(a.error).replace(/\n/g, '\n    ') : 'ok'}`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
