// Scenario 2: a per-connection rate cap (an object store's per-stream limit). Ours with 1, 4 and 8
// connections against curl | tar (one stream, always) and aria2c with the same connection counts
// (download only). The relay in front of nginx counts what each tool receives, for the throughput plot,
// and by default applies the cap itself: nginx's limit_rate allows each request one second of bytes at full
// speed, so ranges of up to that size would not be throttled at all (--throttle nginx measures it anyway).
import { startNginx, type Nginx } from '../../harness/nginx';
import { parseSize } from '../../electron/engine/units';
import type { BenchContext, ScenarioResult } from '../context';
import { chunkSizeFor, smallestGzip, verdict } from '../context';
import { Relay } from '../relay';
import { fmtMiB, fmtRate, fmtRatio, fmtSeconds, groupBy, summarize, table } from '../stats';
import { throughputSvg, type Line } from '../svg-plot';
import type { ToolName } from '../tools';
import { runTrial, type Trial } from '../trial';

/** The engine's default staging disk: window 4 x 64 MiB chunks. */
const DEFAULT_STAGING_BUDGET = 4 * 64 * 1024 * 1024;

export async function throttled(ctx: BenchContext): Promise<ScenarioResult> {
  const input = smallestGzip(ctx);
  const counts = ctx.options.connections;
  const maxConn = Math.max(...counts);
  // Enough chunks that every connection has several ranges to fetch.
  const chunk = chunkSizeFor(input.bytes, 4 * maxConn);
  const windowSlots = Math.max(maxConn, Math.floor(DEFAULT_STAGING_BUDGET / parseSize(chunk.text, 'chunk')));
  const byNginx = ctx.options.throttle === 'nginx';
  const nginx: Nginx = byNginx ? await startNginx({ root: ctx.inputs.serveDir, limitRate: ctx.options.rate }) : ctx.nginx;
  const relay = await Relay.start(nginx.port);
  if (!byNginx) relay.setRateLimit(parseSize(ctx.options.rate, '--rate'));
  const sub = { ...ctx, nginx };
  const cases: Array<{ tool: ToolName; connections: number }> = [
    { tool: 'curl|tar', connections: 1 },
    ...counts.map((n) => ({ tool: 'ours' as ToolName, connections: n })),
    ...(ctx.options.baseline ? counts.map((n) => ({ tool: 'ours (baseline)' as ToolName, connections: n })) : []),
    ...counts.map((n) => ({ tool: 'aria2c' as ToolName, connections: n })),
  ];
  const trials: Trial[] = [];
  try {
    for (let run = 1; run <= ctx.options.runs; run++) {
      for (const c of cases) {
        relay.reset(null);
        trials.push(
          await runTrial(sub, {
            scenario: 's2',
            tool: c.tool,
            input,
            url: relay.url(input.name),
            run,
            // The default disk budget (4 x 64 MiB) in small chunks: while the head chunks wait to be extracted
            // (and passed by a durable checkpoint), the connections fetch ahead instead of idling.
            call: { connections: c.connections, ...(c.tool.startsWith('ours') ? { chunkSize: chunk.text, window: windowSlots } : {}) },
            counter: () => relay.bytesOut,
          }),
        );
      }
    }
  } finally {
    await relay.close();
    if (byNginx) await nginx.stop();
  }

  const groups = groupBy(trials, (t) => `${t.tool} ${t.connections}`).map((g) => ({ s: summarize(g), trials: g }));
  const find = (tool: string, n: number) => groups.find((g) => g.s.tool === tool && g.s.connections === n)?.s;
  const curl = find('curl|tar', 1)!;
  const rows = groups.map(({ s }) => {
    const ours = find('ours', s.connections);
    return [
      s.tool,
      String(s.connections),
      fmtSeconds(s.medianMs),
      fmtRate(input.bytes, s.medianMs),
      fmtRatio(curl.medianMs, s.medianMs),
      ours ? fmtRatio(s.medianMs, ours.medianMs) : '-',
      fmtMiB(s.peakRssBytes),
      fmtMiB(s.peakStagedBytes),
      `${s.okRuns}/${s.runs}${s.problems.length ? ` (${s.problems[0]})` : ''}`,
    ];
  });
  const findings: string[] = [];
  const ours8 = find('ours', maxConn);
  const aria8 = find('aria2c', maxConn);
  if (ours8 && curl) {
    const speedup = curl.medianMs / ours8.medianMs;
    findings.push(`ours with ${maxConn} connections: ${speedup.toFixed(2)}x curl|tar (target 6x: ${verdict(speedup >= 6)}).`);
  }
  if (ours8 && aria8) {
    const over = ours8.medianMs / aria8.medianMs - 1;
    findings.push(
      `ours with ${maxConn} connections, extracting, vs aria2c -x ${maxConn} download only: ${over >= 0 ? '+' : ''}${(over * 100).toFixed(0)}% wall time (target within 10%: ${verdict(over <= 0.1)}).`,
    );
  }
  // The plot: each case's first verified run (or first run).
  const lines: Line[] = groups.map(({ s, trials: g }) => ({
    name: `${s.tool} x${s.connections}`,
    points: (g.find((t) => t.ok) ?? g[0]!).series ?? [],
  }));
  const svgName = 'throttled.svg';
  const how = byNginx ? `nginx limit_rate ${ctx.options.rate}` : `${ctx.options.rate}/s per connection`;
  const svg = throughputSvg(`Scenario 2: ${input.name}, ${how}`, lines);
  return {
    id: 2,
    title: `Per-connection throttle (${ctx.options.rate}/s)`,
    setup: [
      byNginx
        ? `${input.name} (${fmtMiB(input.bytes)}), nginx limit_rate ${ctx.options.rate} (per request, with one second's worth of bytes allowed up front), through a counting relay. ${ctx.options.runs} run(s) per case.`
        : `${input.name} (${fmtMiB(input.bytes)}) from nginx through a relay that caps every connection at ${ctx.options.rate}/s (token bucket, no initial burst; nginx's limit_rate would let each range's first second through at full speed). ${ctx.options.runs} run(s) per case.`,
      `ours: --concurrency N --window ${windowSlots} --chunk-size ${chunk.text}: the default staging budget (4 x 64 MiB = 256 MiB) in small chunks, so ${maxConn} connections have ranges to share and fetch ahead while the head chunks are extracted; aria2c -x N -s N, download only.`,
      '"speed-up" is curl|tar wall time over the case\'s; "vs ours" is wall time over ours with the same connection count.',
    ],
    tables: [
      table(['tool', 'connections', 'median wall', 'throughput', 'speed-up vs curl|tar', 'vs ours', 'peak RSS', 'peak staged', 'verified runs'], rows),
      `![throughput over time](${ctx.resultsStem}-${svgName})`,
    ],
    findings,
    trials,
    files: [{ name: svgName, content: svg }],
  };
}
