// `get` and `status` arguments: parsed strictly into job options, with "did you mean" for a mistyped option.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { UsageError } from '../engine/errors';
import { defaultStateDir } from '../engine/job/job';
import { type FormatOption, type JobOptions } from '../engine/job/job-options';
import { closestOption, unknownOptionOf } from './suggest';
import { parseSize } from '../engine/units';
import { validateUrl } from '../engine/transfer/probe';
import { headerSetFor } from '../engine/transfer/origin-headers';
import { appDataDir, completionDirOf } from '../host/app-data-dir';

export function parseSeconds(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${what}: "${text}" is not a duration; give seconds (e.g. 30) or milliseconds (e.g. 500ms).`);
  const ms = m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000;
  if (ms < 10) throw new UsageError(`${what} must be at least 10ms.`);
  return Math.round(ms);
}

export function parseCount(text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new UsageError(`${what} must be a whole number of at least ${min} (got "${text}").`);
  return Number(text);
}

export const GET_OPTIONS = {
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
  mirror: { type: 'string', multiple: true },
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

export const STATUS_OPTIONS = { 'state-dir': { type: 'string' }, dest: { type: 'string' }, output: { type: 'string' }, json: { type: 'boolean' } } as const;

/** node's parseArgs message, with "did you mean" for an option that looks like a typo of a known one. */
export function usageFromParseError(err: unknown, known: readonly string[], command: string): UsageError {
  const unknown = unknownOptionOf((err as Error).message);
  // node's own text goes on about positionals starting with '-': for a typo, the option is what matters.
  const message = unknown ? `Unknown option '${unknown}'` : (err as Error).message.replace(/\.$/, '');
  const guess = unknown ? closestOption(unknown, known) : null;
  const hint = guess ? ` Did you mean --${guess}?` : '';
  return new UsageError(`${message}.${hint} Run "snapshot-manager ${command} --help" for the options.`, { cause: err });
}

/** True when the arguments ask for help (and nothing is to be run). */
export function wantsHelp(argv: string[]): boolean {
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
    if (v.mirror !== undefined) throw new UsageError('--mirror names another URL of a single file; a manifest lists each part once, without mirrors.');
    if (v.sha256 !== undefined || v.md5 !== undefined)
      throw new UsageError('Each part of a manifest has its own checksum (in the manifest); --sha256 and --md5 are for a single file.');
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
    ...(v.mirror !== undefined ? { mirrors: v.mirror.map(mirrorArg) } : {}),
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

/** A --mirror argument: an absolute http(s) URL, refused with the reason (its query string not shown). */
export function mirrorArg(text: string): string {
  const url = text.trim();
  try {
    validateUrl(url);
  } catch (err) {
    throw new UsageError(`--mirror: ${(err as Error).message}`, { cause: err });
  }
  return url;
}
