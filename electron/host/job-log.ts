// A job's log: its events in an operator's words (state changes, attempts that failed, retries, warnings,
// the error with its causes), kept in a bounded ring for the window and appended to `job.log` in the job's
// state folder, so a report can quote what happened even after a restart.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../engine/events';
import type { SerializedError } from '../engine/errors';
import { JOB_LOG_FILE, JOB_LOG_PREVIOUS } from '../engine/state/layout';
import { decodingLine } from '../../shared/resume-words';
import { connectingText } from '../../shared/connecting';

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogEntry {
  at: number;
  level: LogLevel;
  text: string;
}

/** Entries kept in memory per job (the file keeps more). */
export const LOG_RING_SIZE = 500;
/** job.log is rotated to job.log.1 past this size. */
export const LOG_FILE_MAX_BYTES = 1024 * 1024;

export class LogRing {
  private readonly items: LogEntry[] = [];
  constructor(private readonly size = LOG_RING_SIZE) {}

  push(entry: LogEntry): void {
    this.items.push(entry);
    if (this.items.length > this.size) this.items.splice(0, this.items.length - this.size);
  }

  entries(): LogEntry[] {
    return this.items.map((e) => ({ ...e }));
  }
}

function withCauses(error: SerializedError): string {
  return [`${error.code}: ${error.message}`, ...error.causes.map((c) => `  caused by${c.code ? ` ${c.code}` : ''}: ${c.message}`)].join('\n');
}

/** The line an engine event is worth in the log, or null for the ones that are not (progress, chunk moves). */
export function logEntryFor(e: EngineEvent): LogEntry | null {
  switch (e.type) {
    case 'job-state': {
      const what = e.state === 'paused' ? `paused (${e.reason ?? 'user'})` : e.state;
      if (e.state === 'failed' && e.error) return { at: e.at, level: 'error', text: `failed: ${withCauses(e.error)}` };
      return { at: e.at, level: 'info', text: what };
    }
    case 'probed':
      return {
        at: e.at,
        level: 'info',
        text: `source ${e.finalUrl}: ${e.size === null ? 'size unknown' : `${e.size} bytes`}, ${e.mode === 'ranged' ? `${e.chunkCount} chunks of ${e.chunkSize} bytes` : 'one stream (no ranges)'}${e.etag ? `, ETag ${e.etag}` : ''}`,
      };
    case 'decoding':
      return { at: e.at, level: 'info', text: `format ${decodingLine(e)}` };
    case 'attempt-failed':
      return {
        at: e.at,
        level: 'warn',
        text: `chunk ${e.index} attempt ${e.attempt} failed after ${e.durationMs} ms, ${e.bytes} bytes${e.status !== null ? `, HTTP ${e.status}` : ''}: ${withCauses(e.error)}`,
      };
    case 'retry-scheduled':
      return { at: e.at, level: 'info', text: `chunk ${e.index} attempt ${e.attempt} in ${e.delayMs} ms (${e.reason})` };
    case 'connect-retry':
      return { at: e.at, level: 'warn', text: `${connectingText(e, e.at)} [${e.code}]` };
    case 'warning':
      return { at: e.at, level: 'warn', text: `${e.code}${e.entry ? ` (${e.entry})` : ''}: ${e.message}` };
    case 'done':
      return {
        at: e.at,
        level: 'info',
        text: `done: ${e.bytesFetched} bytes received in ${e.elapsedMs} ms, ${e.entries} entries, ${e.skippedTotal ?? e.skipped.length} skipped, ${e.retries} retries${e.sha256 ? `, sha256 ${e.sha256}` : ''}`,
      };
    default:
      return null;
  }
}

export function formatLogLine(e: LogEntry): string {
  return `${new Date(e.at).toISOString()} ${e.level.padEnd(5)} ${e.text}`;
}

/** Appends lines to `<dir>/job.log` in order, one write at a time; a failing disk never fails the job. */
export class LogFile {
  private chain: Promise<void> = Promise.resolve();
  private size: number | null = null;

  constructor(private readonly dir: string) {}

  /** `create`: make the log folder when it is not there yet. */
  append(entry: LogEntry, create = true): void {
    const line = `${formatLogLine(entry).replace(/\n/g, '\n    ')}\n`;
    this.chain = this.chain.then(() => this.write(line, create)).catch(() => undefined);
  }

  /** The last `max` entries of job.log (after a restart the window shows what happened before). */
  async tail(max = LOG_RING_SIZE): Promise<LogEntry[]> {
    const text = await fsp.readFile(join(this.dir, JOB_LOG_FILE), 'utf8').catch(() => '');
    const out: LogEntry[] = [];
    for (const line of text.split('\n')) {
      const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (info|warn|error) +(.*)$/.exec(line);
      if (m) out.push({ at: Date.parse(m[1]!), level: m[2] as LogLevel, text: m[3]! });
      else if (line.startsWith('    ') && out.length > 0) out[out.length - 1]!.text += `\n${line.slice(4)}`;
    }
    return out.slice(-max);
  }

  /** Resolves once every line appended so far is written (or given up). */
  flushed(): Promise<void> {
    return this.chain;
  }

  private async write(line: string, create: boolean): Promise<void> {
    const path = join(this.dir, JOB_LOG_FILE);
    this.size ??= await fsp.stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (this.size + line.length > LOG_FILE_MAX_BYTES) {
      await fsp.rename(path, join(this.dir, JOB_LOG_PREVIOUS)).catch(() => undefined);
      this.size = 0;
    }
    if (create) await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fsp.appendFile(path, line, { mode: 0o600 });
    this.size += Buffer.byteLength(line);
  }
}
