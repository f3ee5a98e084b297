// One measured run of one tool on one input: a fresh run folder, the command measured from outside, the
// bytes nginx served for it (from its access log), and the result checked against the reference before it
// counts. A benchmark of a wrong result is worthless, so an unverified run is reported as failed.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Nginx } from '../harness/nginx';
import type { InputFile, Inputs } from './inputs';
import { buildManifest, diffManifests, sha256File } from './manifest';
import { measure, type RunResult } from './measure';
import { decoderOf } from './inputs';
import { lastJsonLine, toolCommand, type ToolCall, type ToolName } from './tools';

export interface TrialContext {
  nginx: Nginx;
  inputs: Inputs;
  workDir: string;
  log: (msg: string) => void;
}

export interface TrialSpec {
  scenario: string;
  tool: ToolName;
  input: InputFile;
  /** Served from here (nginx or the relay in front of it). */
  url: string;
  run: number;
  call?: Partial<Omit<ToolCall, 'tool' | 'url' | 'runDir' | 'decoder'>>;
  counter?: () => number;
  killWhen?: () => boolean;
  armKill?: (kill: () => void) => void;
  /** Keep the run folder afterwards (the resume scenario runs again in it). */
  keep?: boolean;
  /** Skip the check (a run killed on purpose has nothing to check yet). */
  verify?: boolean;
  timeoutMs?: number;
  /** A name for the run folder when two trials must share it. */
  dirName?: string;
}

export interface Trial {
  scenario: string;
  tool: ToolName;
  input: string;
  variant: string;
  inputBytes: number;
  connections: number;
  run: number;
  wallMs: number;
  exitCode: number | null;
  killed: boolean;
  timedOut: boolean;
  /** Exit 0 and the result verified. */
  ok: boolean;
  problems: string[];
  mtimeDiffs: number;
  peakRssBytes: number;
  peakStagedBytes: number;
  /** Body bytes nginx sent during the run ($body_bytes_sent). */
  bytesServed: number;
  requests: number;
  /** Times the tool was started (an operator's re-runs after a failure). */
  attempts: number;
  retries: number | null;
  series?: Array<[number, number]>;
}

function servedSince(nginx: Nginx, from: number): { bytes: number; requests: number; lines: number } {
  const lines = nginx.accessLog();
  let bytes = 0;
  for (const line of lines.slice(from)) bytes += Number(line.split(' ')[3]) || 0;
  return { bytes, requests: Math.max(0, lines.length - from), lines: lines.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function runDirOf(ctx: TrialContext, spec: Pick<TrialSpec, 'scenario' | 'tool' | 'input' | 'run' | 'dirName'>): string {
  const slug = spec.dirName ?? `${spec.scenario}-${spec.tool.replace(/[^a-z0-9]+/gi, '_')}-${spec.input.name}-${spec.run}`;
  return join(ctx.workDir, 'runs', slug);
}

export async function runTrial(ctx: TrialContext, spec: TrialSpec): Promise<Trial> {
  const runDir = runDirOf(ctx, spec);
  if (!spec.call?.resume) await fsp.rm(runDir, { recursive: true, force: true });
  await fsp.mkdir(runDir, { recursive: true });
  const cmd = toolCommand({ tool: spec.tool, url: spec.url, runDir, decoder: decoderOf(spec.input.variant), ...spec.call });
  const logFrom = ctx.nginx.accessLog().length;
  const result: RunResult = await measure({
    command: cmd.command,
    cwd: runDir,
    ...(cmd.staged ? { stagedPath: cmd.staged } : {}),
    timeoutMs: spec.timeoutMs ?? 30 * 60_000,
    counter: spec.counter,
    killWhen: spec.killWhen,
    armKill: spec.armKill,
  });
  // nginx logs a request when it ends; a client killed mid-body is noticed on the next write.
  await sleep(300);
  const served = servedSince(ctx.nginx, logFrom);
  const problems: string[] = [];
  let mtimeDiffs = 0;
  if (result.exitCode !== 0 && !result.killed)
    problems.push(`exit ${result.exitCode ?? result.signal}${result.timedOut ? ' (timed out)' : ''}: ${lastLines(result.stderrTail, result.stdoutTail, spec.tool)}`);
  if (spec.verify !== false && result.exitCode === 0) {
    if (cmd.kind === 'tree') {
      const diff = diffManifests(await ctx.inputs.manifest(spec.input.label), await buildManifest(cmd.dest));
      problems.push(...diff.errors);
      mtimeDiffs = diff.mtimeDiffs;
    } else {
      const sha = await sha256File(cmd.dest).catch((e: Error) => `unreadable: ${e.message}`);
      if (sha !== spec.input.sha256) problems.push(`downloaded file differs from the input (sha256 ${sha})`);
    }
  }
  const done = spec.tool.startsWith('ours') ? lastJsonLine(result.stdoutTail) : null;
  const trial: Trial = {
    scenario: spec.scenario,
    tool: spec.tool,
    input: spec.input.name,
    variant: spec.input.variant,
    inputBytes: spec.input.bytes,
    connections: spec.call?.connections ?? (spec.tool === 'curl|tar' || spec.tool === 'wget -c' ? 1 : 4),
    run: spec.run,
    wallMs: Math.round(result.wallMs),
    exitCode: result.exitCode,
    killed: result.killed,
    timedOut: result.timedOut,
    ok: result.exitCode === 0 && problems.length === 0,
    problems,
    mtimeDiffs,
    peakRssBytes: result.peakRssBytes,
    peakStagedBytes: result.peakStagedBytes,
    bytesServed: served.bytes,
    requests: served.requests,
    attempts: Math.max(1, (result.stderrTail.match(/^attempt \d+$/gm) ?? []).length),
    retries: done && typeof done.retries === 'number' ? done.retries : null,
    ...(spec.counter ? { series: result.series } : {}),
  };
  if (!spec.keep) await fsp.rm(runDir, { recursive: true, force: true });
  const status = trial.ok ? 'ok' : result.killed ? 'killed' : `FAILED (${problems[0]})`;
  ctx.log(
    `  ${spec.scenario} ${spec.tool.padEnd(13)} ${spec.input.name} x${trial.connections} run ${spec.run}: ${(trial.wallMs / 1000).toFixed(2)} s, rss ${(trial.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${status}`,
  );
  return trial;
}

function lastLines(stderr: string, stdout: string, tool: ToolName): string {
  if (tool.startsWith('ours')) {
    const done = lastJsonLine(stdout);
    if (done?.type === 'error') return `${String(done.code)} ${String(done.message)}`;
  }
  // An uncaught exception ends with Node's version line: the thrown error's own line says more.
  const lines = stderr.trim().split('\n');
  const thrown = lines.find((l) => /^\w*Error\b|^\s*throw /.test(l));
  return (thrown ?? lines.slice(-2).join(' | ')).slice(0, 300) || '(no output)';
}
