// The command lines measured: what snapshot guides print (curl | tar), what operators switch to (aria2c,
// wget -c), and ours, extracting or download-only. One place, so every scenario runs the same commands.
import { join } from 'node:path';
import { quote } from './shell';

export type ToolName = 'ours' | 'ours (baseline)' | 'ours --no-checkpoints' | 'ours --output' | 'curl|tar' | 'aria2c' | 'wget -c';

/** What the input is compressed with: curl | tar runs the matching decoder in its pipeline. */
export type PipeDecoder = 'gzip' | 'lz4' | 'zstd' | null;

/** curl | tar as the snapshot guides print it for each format. */
export function pipelineLabel(decoder: PipeDecoder): string {
  return decoder === 'gzip' ? 'curl | tar -xz' : decoder ? `curl | ${decoder} -d | tar -x` : 'curl | tar -x';
}

export interface ToolCall {
  tool: ToolName;
  url: string;
  /** The run's own folder: destination, output file and state live under it. */
  runDir: string;
  /** The input's compression (for curl | tar's pipeline). */
  decoder: PipeDecoder;
  connections?: number;
  /** Ours: chunk size (e.g. "16M") and window; defaults are the engine's. */
  chunkSize?: string;
  window?: number;
  /** A transfer silent for this long is given up and retried (faults scenario); tools' defaults otherwise. */
  stallTimeoutS?: number;
  /** Run the tool again after a failure, as an operator would (faults scenario). */
  attempts?: number;
  /** Do not clear earlier output (resume scenario's second run). */
  resume?: boolean;
}

export interface ToolCommand {
  command: string;
  /** Where the result is: an extracted folder or a downloaded file. */
  dest: string;
  kind: 'tree' | 'file';
  /** Folder or file whose allocated size is the tool's staged disk. */
  staged: string | null;
}

let CLI = join(__dirname, '..', 'electron', 'cli.js');
let BASELINE_CLI: string | null = null;

/** Which build of our CLI the commands run (see engine-build.ts). */
export function selectCli(path: string): void {
  CLI = path;
}

/** The build "ours (baseline)" runs: another commit's engine, measured with the same options as ours. */
export function selectBaselineCli(path: string): void {
  BASELINE_CLI = path;
}

export function toolCommand(call: ToolCall): ToolCommand {
  const dir = call.runDir;
  const n = call.connections ?? 4;
  const stall = call.stallTimeoutS;
  const url = quote(call.url);
  const attempts = call.attempts ?? 1;
  const retry = (line: string, before = '') =>
    attempts <= 1 ? `${before}${line}` : `for i in $(seq 1 ${attempts}); do echo "attempt $i" >&2; ${before}${line} && exit 0; done; exit 1`;
  switch (call.tool) {
    case 'curl|tar': {
      const dest = join(dir, 'dest');
      const speed = stall ? ` --speed-limit 1 --speed-time ${stall}` : '';
      // A failed stream cannot continue: the operator clears the folder and starts again.
      const clear = call.resume ? `mkdir -p ${quote(dest)} && ` : `rm -rf ${quote(dest)} && mkdir -p ${quote(dest)} && `;
      const unpack = call.decoder === 'lz4' || call.decoder === 'zstd' ? ` | ${call.decoder} -dc` : '';
      const z = call.decoder === 'gzip' ? 'z' : '';
      // measure() runs the line with pipefail: a decoder that fails (a cut stream) fails the pipeline.
      return { command: retry(`curl -s${speed} ${url}${unpack} | tar -x${z}f - -C ${quote(dest)}`, clear), dest, kind: 'tree', staged: null };
    }
    case 'aria2c': {
      const file = join(dir, 'out', 'snapshot');
      const t = stall ? ` --timeout=${stall} --max-tries=20 --retry-wait=1` : '';
      const line = `aria2c -c -x ${n} -s ${n}${t} -d ${quote(join(dir, 'out'))} -o snapshot --allow-overwrite=true --auto-file-renaming=false --console-log-level=warn --summary-interval=0 --download-result=hide ${url}`;
      return { command: retry(line), dest: file, kind: 'file', staged: file };
    }
    case 'wget -c': {
      const file = join(dir, 'out', 'snapshot');
      const t = stall ? ` --read-timeout=${stall} --tries=20 --waitretry=1` : '';
      return { command: retry(`mkdir -p ${quote(join(dir, 'out'))} && wget -c -q${t} -O ${quote(file)} ${url}`), dest: file, kind: 'file', staged: file };
    }
    case 'ours':
    case 'ours (baseline)':
    case 'ours --no-checkpoints':
    case 'ours --output': {
      const state = join(dir, 'state');
      const extract = call.tool !== 'ours --output';
      const dest = extract ? join(dir, 'dest') : join(dir, 'out', 'snapshot');
      const opts = [
        `--state-dir ${quote(state)}`,
        `--concurrency ${n}`,
        `--window ${call.window ?? Math.max(4, n)}`,
        call.chunkSize ? `--chunk-size ${call.chunkSize}` : '',
        stall ? `--idle-timeout ${stall}` : '',
        call.tool === 'ours --no-checkpoints' ? '--no-checkpoints' : '',
        '--json',
      ].filter(Boolean);
      const target = extract ? `--dest ${quote(dest)}` : `--output ${quote(dest)}`;
      const mk = extract ? '' : `mkdir -p ${quote(join(dir, 'out'))} && `;
      const cli = call.tool === 'ours (baseline)' ? BASELINE_CLI : CLI;
      if (!cli) throw new Error('ours (baseline) needs --baseline <commit>');
      return { command: retry(`${mk}${quote(process.execPath)} ${quote(cli)} get ${url} ${target} ${opts.join(' ')}`), dest, kind: extract ? 'tree' : 'file', staged: state };
    }
  }
}

/** The done/error line of ours' --json output, if any. */
export function lastJsonLine(stdout: string): Record<string, unknown> | null {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (v.type === 'done' || v.type === 'error') return v;
    } catch {
      // a torn line after a kill
    }
  }
  return null;
}
