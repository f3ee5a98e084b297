// Scenario 4: a crash half-way. Each tool is killed with SIGKILL (its whole process group) once half the
// file has reached it, then started again with the same arguments; what counts is the bytes served again
// (nginx's $body_bytes_sent over both runs, minus the file size) and a verified result at the end. The
// .tar.gz runs every tool; the .tar.lz4 and .tar.zst of the same tar run ours beside curl | lz4|zstd -d | tar.
import type { BenchContext, ScenarioResult } from '../context';
import { chunkSizeFor, smallestGzip, verdict } from '../context';
import { decoderOf, type InputFile } from '../inputs';
import { Relay } from '../relay';
import { fmtMiB, fmtSeconds, median, table } from '../stats';
import { pipelineLabel, type ToolName } from '../tools';
import { runTrial, type Trial } from '../trial';

const TOOLS: ToolName[] = ['ours', 'ours --output', 'curl|tar', 'aria2c', 'wget -c'];
const LZ4_ZSTD_TOOLS: ToolName[] = ['ours', 'curl|tar'];
const WINDOW = 4;

export async function resume(ctx: BenchContext): Promise<ScenarioResult> {
  const gzip = smallestGzip(ctx);
  const inputs: Array<{ input: InputFile; tools: ToolName[] }> = [
    { input: gzip, tools: TOOLS },
    { input: ctx.inputs.find(gzip.label, 'lz4'), tools: LZ4_ZSTD_TOOLS },
    { input: ctx.inputs.find(gzip.label, 'zstd'), tools: LZ4_ZSTD_TOOLS },
  ];
  const relay = await Relay.start(ctx.nginx.port);
  const trials: Trial[] = [];
  const pairs: Array<{ input: InputFile; tool: ToolName; run: number; first: Trial; second: Trial; receivedBeforeKill: number }> = [];
  try {
    for (let run = 1; run <= ctx.options.runs; run++) {
      for (const { input, tools } of inputs)
        for (const tool of tools) {
          const chunk = chunkSizeFor(input.bytes, 16);
          const dirName = `s4-${input.variant}-${tool.replace(/[^a-z0-9]+/gi, '_')}-${run}`;
          const call = { resume: true, ...(tool.startsWith('ours') ? { chunkSize: chunk.text, window: WINDOW } : {}) };
          relay.reset(null);
          const first = await runTrial(ctx, {
            scenario: 's4-killed',
            tool,
            input,
            url: relay.url(input.name),
            run,
            call,
            dirName,
            keep: true,
            verify: false,
            armKill: (kill) => relay.onceBodyBytes(Math.floor(input.bytes / 2), kill),
          });
          const receivedBeforeKill = relay.bodyBytes;
          relay.reset(null);
          const second = await runTrial(ctx, { scenario: 's4-rerun', tool, input, url: relay.url(input.name), run, call, dirName });
          if (!first.killed) second.problems.push('the first run ended before it could be killed at 50%');
          trials.push(first, second);
          pairs.push({ input, tool, run, first, second, receivedBeforeKill });
        }
    }
  } finally {
    await relay.close();
  }

  const rows: string[][] = [];
  const findings: string[] = [];
  for (const { input, tools } of inputs)
    for (const tool of tools) {
      const chunk = chunkSizeFor(input.bytes, 16);
      const bound = WINDOW * chunk.bytes;
      const p = pairs.filter((x) => x.tool === tool && x.input === input);
      const refetched = median(p.map((x) => x.first.bytesServed + x.second.bytesServed - input.bytes));
      const ok = p.filter((x) => x.second.ok && x.first.killed).length;
      rows.push([
        input.name,
        tool === 'curl|tar' ? pipelineLabel(decoderOf(input.variant)) : tool,
        fmtMiB(median(p.map((x) => x.receivedBeforeKill))),
        fmtMiB(median(p.map((x) => x.first.bytesServed))),
        fmtMiB(median(p.map((x) => x.second.bytesServed))),
        `${fmtMiB(refetched)} (${((refetched / input.bytes) * 100).toFixed(0)}%)`,
        fmtSeconds(median(p.map((x) => x.second.wallMs))),
        `${ok}/${p.length}${p.flatMap((x) => x.second.problems)[0] ? ` (${p.flatMap((x) => x.second.problems)[0]})` : ''}`,
      ]);
      if (tool.startsWith('ours')) {
        const target = tool === 'ours' ? `window x chunk = ${fmtMiB(bound)} + one checkpoint interval (resumable extraction)` : `window x chunk = ${fmtMiB(bound)}`;
        findings.push(
          `${input.name}, ${tool}: re-fetched ${fmtMiB(refetched)}; target at most ${target}: ${verdict(refetched <= bound)}${tool === 'ours' && refetched > bound ? ' (the bound checked here leaves the checkpoint interval out)' : ''}.`,
        );
      }
    }
  return {
    id: 4,
    title: 'Resume after kill -9 at 50%',
    setup: [
      `${inputs.map((i) => `${i.input.name} (${fmtMiB(i.input.bytes)})`).join(', ')} through a counting relay in front of nginx (no throttle). The tool's process group gets SIGKILL the moment the relay has passed it half the file's bytes; then the same command runs again in the same folder (curl|tar into the partly written folder: it can only start over).`,
      `ours: --chunk-size ${inputs.map((i) => chunkSizeFor(i.input.bytes, 16).text).join('/')} --window ${WINDOW}; aria2c -c -x 4 -s 4 (its control file is saved every 60 s by default); wget -c. ${ctx.options.runs} run(s) each.`,
      "Served: nginx $body_bytes_sent (it may send a little more than a killed client read). Re-fetched: both runs' served bytes minus the file size.",
    ],
    tables: [table(['input', 'tool', 'received before kill', 'served before kill', 'served after restart', 're-fetched', 'restart wall', 'verified'], rows)],
    findings,
    trials,
  };
}
