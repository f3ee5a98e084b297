#!/usr/bin/env node
// `snapshot-manager get|status|serve`: the engine without the window. Exit codes: 0 done, 1 failed, 2 usage,
// 3 interrupted (resumable), 4 integrity (checksum mismatch, upstream changed), 5 link expired (state kept:
// run again with a fresh link).
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineError, serializeError, UsageError, formatBytes, type SerializedError } from './engine/errors';
import type { EngineEvent, JobSummary } from './engine/events';
import { defaultStateDir, Job } from './engine/job/job';
import { resolveOptions, type FormatOption, type JobOptions } from './engine/job/job-options';
import { readJobStatus } from './engine/state/job-status';
import { lockHolder } from './engine/state/job-lock';
import { closestOption, unknownOptionOf } from './cli-suggest';
import { formatDuration, formatRate, parseSize } from './engine/units';
import { redactUrl } from './engine/transfer/redact';
import { validateUrl } from './engine/transfer/probe';
import { describeHeaders, headerSetFor } from './engine/transfer/origin-headers';
import { clearHeaders, headersForRun } from './engine/state/saved-headers';
import { JOB_FILE } from './engine/state/layout';
import { withSidecarChecksums } from './engine/job/sidecar-options';
import { loadManifest } from './engine/parts/manifest-source';
import { PartsJob, type PartEvent } from './engine/parts/parts-job';
import { createDispatcher } from './engine/transfer/http';
import { loadCompletion } from './engine/state/completion-record';
import { appDataDir, completionDirOf } from './host/app-data-dir';
import { RateWindow, counterEta, formatEta } from '../shared/eta';
import { decodingLine, formatName } from '../shared/resume-words';
import { connectingText } from '../shared/connecting';
import { isDiskFull, waitingLine, waitOutFullDisk } from './cli-disk-full';
import { watchInterrupts } from './cli-signals';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 3, integrity: 4, linkExpired: 5 } as const;

const STATUS_USAGE = `Usage: snapshot-manager status (--state-dir <dir> | --dest <folder> | --output <file>) [--json]
  Prints what a job's state folder says: the source, the target, how far it got, its checkpoint, staged
  chunks, failed attempts, and whether a process runs the job right now.
  --state-dir <dir>   the job's state folder
  --dest <folder>     or the destination the job extracts into (state beside it)
  --output <file>     or the file a download-only job writes (state beside it)
  --json              one JSON object instead of text`;

const USAGE = `Usage:
  snapshot-manager get <url> --dest <folder> [options]     download and extract a snapshot
  snapshot-manager get <url> --output <file> [options]     download only (exact bytes, resumable)
  snapshot-manager get --manifest <file|url> --dest <folder> [options]   a snapshot in parts, in order, into one folder
  snapshot-manager status (--state-dir <dir> | --dest <folder> | --output <file>) [--json]
  snapshot-manager serve [--host 127.0.0.1] [--port N] [--state-dir <dir>]   the UI in a browser

Options for get:
  --state-dir <dir>        staging window and job state (default: .<name>.snapshot-manager beside the target)
  --chunk-size <size>      bytes per range request (default 64M)
  --window <n>             chunks staged or in flight at most (default 4); disk used <= window x chunk size
  --concurrency <n>        ranges in flight at once (default 4, at most --window)
  --idle-timeout <secs>    give up on a connection after this long without a byte (default 30; "500ms" works)
  --retries <n>            failed attempts in a row per chunk before the job fails (default 8)
  --limit-rate <rate>      cap the download rate, bytes/s with K/M/G suffixes (e.g. 20M)
  --format <f>             auto | tar | gzip | lz4 | zstd (default auto)
  --sha256 <hex>           verify the downloaded (compressed) file; a mismatch exits with 4. A pasted line of
                           sha256sum output ("<hex>  <file>") or a BSD line ("SHA256 (<file>) = <hex>") works too
  --manifest <file|url>    the parts of a snapshot: a CSV with a url column (BNB Chain's filename,url,md5 shape),
                           a list of URLs (each optionally followed by md5:<hex> or sha256:<hex>), or a JSON list
                           of {url, md5?, sha256?, size?}; each part's checksum is verified, finished parts are skipped
  --md5 <hex>              the same with MD5 (the checksum most providers publish); md5sum lines work too
  --no-sidecar             do not look for <url>.sha256, <url>.md5 or SHA256SUMS/MD5SUMS beside the file (by
                           default a checksum found there is verified; --sha256/--md5 win over it)
  --header 'Name: value'   send this request header (repeatable; e.g. a Bearer token) to the URL's origin only,
                           never to a host a redirect leads to; kept owner-only with the job's state so a resumed
                           run sends it again, and never printed
  --refresh-url-command <cmd>  when the link expires (401/403 mid-job), run this shell command (60 s at most) and
                           continue with the URL on the first line it prints, if it serves the same file; kept
                           owner-only with the job's state for resumed runs
  --strict                 an unsafe archive entry fails the job instead of being skipped
  --force                  extract into a non-empty folder that this job did not start
  --restart                forget an earlier run's state (e.g. after the upstream changed)
  --keep-state             keep the state folder after the job completes (it holds the URL; removed by default)
  --no-checkpoints         no extraction checkpoints: a little faster, but a stopped job extracts again from the start
  --zstd-max-window <size> largest zstd window a frame may need (default 128M, as zstd -d); it is held in memory
  --json                   NDJSON events on stdout; the last line is {"type":"done",...} or {"type":"error",...}

Exit codes: 0 done, 1 failed, 2 usage, 3 interrupted (run again to resume), 4 checksum mismatch or upstream changed,
5 the link expired (everything is kept: run the same get with a fresh link to the same file, and it continues).`;

export function exitCodeFor(err: unknown): number {
  const code = err instanceof EngineError ? err.code : undefined;
  switch (code) {
    case 'E_USAGE':
    case 'E_BAD_URL':
    case 'E_DEST_NOT_EMPTY':
    case 'E_DEST_NOT_WRITABLE':
    case 'E_LOCKED':
    case 'E_STATE_UNREADABLE':
    // Run again with a larger --zstd-max-window: the operator's call, like any other option.
    case 'E_WINDOW_TOO_LARGE':
      return EXIT.usage;
    case 'E_CHECKSUM_MISMATCH':
    case 'E_UPSTREAM_CHANGED':
      return EXIT.integrity;
    case 'E_ABORTED':
      return EXIT.interrupted;
    case 'E_LINK_EXPIRED':
      return EXIT.linkExpired;
    default:
      return EXIT.failed;
  }
}

function parseSeconds(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${what}: "${text}" is not a duration; give seconds (e.g. 30) or milliseconds (e.g. 500ms).`);
  const ms = m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000;
  if (ms < 10) throw new UsageError(`${what} must be at least 10ms.`);
  return Math.round(ms);
}

function parseCount(text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new UsageError(`${what} must be a whole number of at least ${min} (got "${text}").`);
  return Number(text);
}

const GET_OPTIONS = {
  dest: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'state-dir': { type: 'string' },
  'chunk-size': { type: 'string' },
  window: { type: 'string' },
  concurrency: { type: 'string' },
  'idle-timeout': { type: 'string' },
  retries: { type: 'string' },
  'retry-base': { type: 'string' },
  'limit-rate': { type: 'string' },
  format: { type: 'string' },
  sha256: { type: 'string' },
  md5: { type: 'string' },
  header: { type: 'string', multiple: true },
  'refresh-url-command': { type: 'string' },
  'no-sidecar': { type: 'boolean' },
  manifest: { type: 'string' },
  strict: { type: 'boolean' },
  force: { type: 'boolean' },
  restart: { type: 'boolean' },
  'keep-state': { type: 'boolean' },
  'no-checkpoints': { type: 'boolean' },
  'zstd-max-window': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const STATUS_OPTIONS = { 'state-dir': { type: 'string' }, dest: { type: 'string' }, output: { type: 'string' }, json: { type: 'boolean' } } as const;

/** node's parseArgs message, with "did you mean" for an option that looks like a typo of a known one. */
function usageFromParseError(err: unknown, known: readonly string[], command: string): UsageError {
  const unknown = unknownOptionOf((err as Error).message);
  // node's own text goes on about positionals starting with '-': for a typo, the option is what matters.
  const message = unknown ? `Unknown option '${unknown}'` : (err as Error).message.replace(/\.$/, '');
  const guess = unknown ? closestOption(unknown, known) : null;
  const hint = guess ? ` Did you mean --${guess}?` : '';
  return new UsageError(`${message}.${hint} Run "snapshot-manager ${command} --help" for the options.`, { cause: err });
}

/** True when the arguments ask for help (and nothing is to be run). */
function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function parseGetArgs(argv: string[]): { options: JobOptions; json: boolean; sidecar: boolean; manifest: string | null; headerArgs: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: GET_OPTIONS });
  } catch (err) {
    throw usageFromParseError(err, [...Object.keys(GET_OPTIONS), 'help'], 'get');
  }
  const v = parsed.values;
  const manifest = v.manifest ?? null;
  if (manifest !== null) {
    if (parsed.positionals.length > 0) throw new UsageError('get --manifest takes no URL of its own: the manifest lists the parts.');
    if (v.output !== undefined || v.dest === undefined) throw new UsageError('The parts of a manifest extract in order into one folder: give --dest <folder> (not --output).');
    if (v.sha256 !== undefined || v.md5 !== undefined) throw new UsageError('Each part of a manifest has its own checksum (in the manifest); --sha256 and --md5 are for a single file.');
  } else if (parsed.positionals.length !== 1) throw new UsageError('get takes exactly one URL: snapshot-manager get <url> --dest <folder>.');
  const target = v.dest ?? v.output;
  if (!target) throw new UsageError('Say where the snapshot goes: --dest <folder> to extract it, or --output <file> to download it as is.');
  const windowSize = v.window !== undefined ? parseCount(v.window, '--window', 1) : undefined;
  const headerArgs = v.header ?? [];
  // A manifest's parts get their URL (and the headers their origin) once the manifest is read.
  const url = parsed.positionals[0] ?? (manifest && /^https?:\/\//i.test(manifest) ? manifest : null);
  if (headerArgs.length > 0 && url) validateUrl(url);
  const headers = url ? headerSetFor(url, headerArgs) : null;
  const options: JobOptions = {
    url: url ?? '',
    stateDir: resolve(v['state-dir'] ?? defaultStateDir(resolve(target))),
    ...(v.dest !== undefined ? { dest: v.dest } : {}),
    ...(v.output !== undefined ? { output: v.output } : {}),
    ...(v['chunk-size'] !== undefined ? { chunkSize: parseSize(v['chunk-size'], '--chunk-size') } : {}),
    ...(windowSize !== undefined ? { window: windowSize } : {}),
    ...(v.concurrency !== undefined ? { concurrency: parseCount(v.concurrency, '--concurrency', 1) } : {}),
    ...(v['idle-timeout'] !== undefined ? { idleTimeoutMs: parseSeconds(v['idle-timeout'], '--idle-timeout') } : {}),
    ...(v.retries !== undefined ? { retries: parseCount(v.retries, '--retries', 0) } : {}),
    ...(v['retry-base'] !== undefined ? { retryBaseMs: parseSeconds(v['retry-base'], '--retry-base') } : {}),
    ...(v['limit-rate'] !== undefined ? { limitRate: parseSize(v['limit-rate'], '--limit-rate') } : {}),
    ...(v.format !== undefined ? { format: v.format as FormatOption } : {}),
    ...(v.sha256 !== undefined ? { sha256: v.sha256 } : {}),
    ...(v.md5 !== undefined ? { md5: v.md5 } : {}),
    ...(headers ? { headers } : {}),
    ...(v['refresh-url-command'] !== undefined ? { refreshUrlCommand: v['refresh-url-command'] } : {}),
    strict: v.strict ?? false,
    force: v.force ?? false,
    restart: v.restart ?? false,
    ...(v['no-checkpoints'] ? { checkpoints: false } : {}),
    ...(v['keep-state'] ? { keepState: true } : {}),
    completionDir: completionDirOf(appDataDir()),
    ...(v['zstd-max-window'] !== undefined ? { zstdMaxWindow: parseSize(v['zstd-max-window'], '--zstd-max-window') } : {}),
  };
  return { options, json: v.json ?? false, sidecar: !v['no-sidecar'], manifest, headerArgs };
}

function describeError(err: SerializedError): string {
  const lines = [`error ${err.code}: ${err.message}`];
  for (const c of err.causes) lines.push(`  caused by${c.code ? ` ${c.code}` : ''}: ${c.message}`);
  return lines.join('\n');
}

/** The live line on a TTY: downloaded (received and kept, as the window counts it), %, rates, ETA, window, retries. */
class ProgressLine {
  private last: Extract<EngineEvent, { type: 'progress' }> | null = null;
  private window = '';
  private state = '';
  private readonly committedRate = new RateWindow();
  private readonly consumedRate = new RateWindow();

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(e: EngineEvent): void {
    if (e.type === 'progress') {
      this.last = e;
      this.committedRate.add(e.at, e.bytesCommitted);
      this.consumedRate.add(e.at, e.bytesConsumed);
    } else if (e.type === 'window') this.window = `window ${e.slots.filter((s) => s.chunk !== null).length}/${e.capacity}${e.waitingOn === 'extractor' ? ' (extractor busy)' : ''}`;
    else if (e.type === 'job-state') this.state = e.state === 'paused' ? `paused (${e.reason})` : e.state === 'downloading' ? '' : e.state;
    else return;
    this.render();
  }

  private render(): void {
    const p = this.last;
    if (!p) return;
    const total = p.bytesTotal;
    const pct = total ? ` (${((p.bytesCommitted / total) * 100).toFixed(1)}%)` : '';
    const eta = counterEta(total, this.committedRate.all(), this.consumedRate.all());
    const etaText = total ? `  ETA ${formatEta(eta)}` : '';
    const text = `${formatBytes(p.bytesCommitted)}${total ? ` / ${formatBytes(total)}` : ''}${pct}  ↓ ${formatRate(p.downloadRate)}  ⇣ ${formatRate(p.extractRate)}${etaText}  ${this.window}  retries ${p.retries}${this.state ? `  ${this.state}` : ''}`;
    this.out.write(`\r\x1b[2K${text.slice(0, Math.max(20, (this.out.columns || 120) - 1))}`);
  }

  end(): void {
    if (this.last) this.out.write('\n');
  }
}

async function runGet(argv: string[]): Promise<number> {
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
    if (parsed.manifest !== null) return await runParts(parsed.manifest, parsed.options, parsed.headerArgs, json);
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
    // A full destination is a pause, not the end (see cli-disk-full.ts): its failure is not reported.
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
      process.stderr.write(`${e.finalUrl}: ${e.size === null ? 'unknown size' : formatBytes(e.size)}, ${e.mode === 'ranged' ? `${e.chunkCount} chunks of ${formatBytes(e.chunkSize)}` : 'no range support: one stream, cannot resume mid-way'}\n`);
    }
  };
  job.on('event', onEvent);
  // Ctrl-C stops the job, or the wait for free space after a full destination (see cli-signals.ts).
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
            process.stdout.write(JSON.stringify({ type: 'warning', code: 'WAITING_FOR_SPACE', message: waitingLine(need), path: need.path, bytesNeeded: need.bytes, bytesFree: need.free, jobId: job.id, at }) + '\n');
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

/** `get --manifest`: the parts in order into one folder (see engine/parts/parts-job.ts), reported like one job. */
async function runParts(manifest: string, common: JobOptions, headerArgs: string[], json: boolean): Promise<number> {
  let parts: PartsJob;
  try {
    const dispatcher = createDispatcher({ connections: 1, connectTimeoutMs: 10_000, idleTimeoutMs: 30_000 });
    const loaded = await loadManifest(manifest, { dispatcher, headers: common.headers ?? null }).finally(() => dispatcher.destroy().catch(() => undefined));
    if (loaded.parts.length === 0) throw new UsageError(`The manifest ${loaded.source} lists no parts.`);
    // Headers belong to the origin they were given for: the manifest's, or (a file manifest) the first part's.
    const headers = common.headers ?? headerSetFor(loaded.parts[0]!.url, headerArgs);
    const { url: _url, stateDir, dest, force, ...rest } = common;
    void _url;
    parts = new PartsJob({ parts: loaded.parts, dest: dest!, stateDir, force: force ?? false, common: { ...rest, headers } });
    if (!json) process.stderr.write(`${loaded.source}: ${loaded.parts.length} parts\n`);
  } catch (err) {
    return reportFailure(err, json);
  }
  const progress = !json && process.stderr.isTTY ? new ProgressLine(process.stderr) : null;
  parts.on('event', (e: PartEvent) => {
    if (json) {
      const line = e.type === 'error' ? { type: 'error', ...e.error, jobId: e.jobId, at: e.at, part: e.part } : e;
      process.stdout.write(JSON.stringify(line) + '\n');
      return;
    }
    if (e.type === 'part') {
      const name = e.name ?? e.url.split('/').pop();
      process.stderr.write(`${progress ? '\n' : ''}part ${e.index + 1} of ${e.count} (${name}): ${e.state === 'skipped' ? 'done earlier, skipped' : e.state}\n`);
      return;
    }
    progress?.update(e);
    if (e.type === 'warning') process.stderr.write(`${progress ? '\n' : ''}${e.code === 'RESUMED' || e.code === 'FILES_KEPT' ? 'note' : 'warning'} ${e.code}${e.entry ? ` (${e.entry})` : ''}: ${e.message}\n`);
    if (e.type === 'connect-retry') process.stderr.write(`${progress ? '\n' : ''}${connectingText(e, e.at)}\n`);
  });
  const interrupts = watchInterrupts(
    () => parts.cancel(),
    () => process.exit(EXIT.interrupted),
  );
  try {
    const summary = await parts.run();
    progress?.end();
    if (json) process.stdout.write(JSON.stringify({ type: 'parts-done', parts: summary.parts.map((p) => ({ index: p.index, skipped: p.skipped, entries: p.summary.entries, bytesFetched: p.summary.bytesFetched })), elapsedMs: summary.elapsedMs, at: Date.now() }) + '\n');
    else {
      const fetched = summary.parts.reduce((n, p) => n + (p.skipped ? 0 : p.summary.bytesFetched), 0);
      const entries = summary.parts.reduce((n, p) => n + p.summary.entries, 0);
      process.stderr.write(`done: ${summary.parts.length} parts (${summary.parts.filter((p) => p.skipped).length} done earlier), ${formatBytes(fetched)} fetched in ${formatDuration(summary.elapsedMs)}, ${entries} entries\n`);
    }
    return EXIT.ok;
  } catch (err) {
    progress?.end();
    // The part's own error line went out with its events; this one is the verdict, naming the part.
    return reportFailure(err, json);
  } finally {
    interrupts.dispose();
  }
}

/** Headers saved by a run that never got as far as a job state (refused before it started) are not kept. */
async function forgetUnusedHeaders(stateDir: string | null, saved: boolean): Promise<void> {
  if (!stateDir || !saved || existsSync(join(stateDir, JOB_FILE))) return;
  await clearHeaders(stateDir).catch(() => undefined);
}

function printSummary(s: JobSummary): void {
  // The rate of what this run received: a re-run that found everything done fetched nothing (it said "7.5 GiB/s").
  const rate = s.bytesFetched === 0 ? 'nothing left to fetch' : s.elapsedMs > 0 ? `${formatRate(s.bytesFetched / (s.elapsedMs / 1000))} received` : '-';
  process.stderr.write(
    `done: ${formatBytes(s.bytesTotal ?? s.bytesFetched)} in ${formatDuration(s.elapsedMs)} (${rate}), ${s.entries} entries, ${formatBytes(s.bytesWritten)} written, ${s.retries} retries` +
      (s.stallReplacements ? `, ${s.stallReplacements} stalled connections replaced` : '') +
      (s.sha256 ? `, sha256 ${s.sha256}` : '') +
      '\n',
  );
  for (const k of s.skipped) process.stderr.write(`  skipped ${k.entry}: ${k.code} ${k.reason}\n`);
  const total = s.skippedTotal ?? s.skipped.length;
  if (total > s.skipped.length) {
    const byCode = Object.entries(s.skippedByCode ?? {})
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    process.stderr.write(`  ... ${total} skipped in all (${byCode}); the first ${s.skipped.length} are listed\n`);
  }
}

function reportFailure(err: unknown, json: boolean): number {
  const serialized = serializeError(err);
  if (json) process.stdout.write(JSON.stringify({ type: 'error', ...serialized }) + '\n');
  else process.stderr.write(describeError(serialized) + '\n');
  if (serialized.code === 'E_USAGE' && !json) process.stderr.write('Run "snapshot-manager --help" for usage.\n');
  return exitCodeFor(err);
}

async function runStatus(argv: string[]): Promise<number> {
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
    }
    else process.stdout.write(`${note}\n`);
    return EXIT.ok;
  }
  // Whether a process runs the job now: the lock's holder, if it is still alive.
  const lock = await lockHolder(resolve(stateDir));
  const holder = lock?.holder ?? null;
  const running = lock?.alive ? { pid: lock.holder.pid, host: lock.holder.host, since: lock.holder.startedAt } : null;
  if (v.json) {
    process.stdout.write(JSON.stringify({ ...report, running }) + '\n');
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
      lines.push(`  #${a.attempt} ${new Date(a.startedAt).toISOString()} HTTP ${a.status ?? '-'} ${a.bytes} bytes ${a.durationMs} ms: ${a.error ? describeError(a.error).replace(/\n/g, '\n    ') : 'ok'}`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'get':
      return runGet(rest);
    case 'status':
      return runStatus(rest);
    case 'serve': {
      const serve = (await import('./serve.js')) as { runServe: (argv: string[]) => Promise<number> };
      return serve.runServe(rest);
    }
    case '--version':
    case '-V': {
      const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return EXIT.ok;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`);
      return EXIT.usage;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`internal error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
