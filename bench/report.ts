// The results file: machine and versions, how to reproduce, then each scenario's setup, tables and findings.
import type { BenchOptions, ScenarioResult } from './context';
import type { MachineInfo } from './machine';

export function reproduceLine(options: BenchOptions): string {
  const sizes = options.sizes.map((s) => s.label).join(',');
  return `npm run bench -- --sizes ${sizes} --runs ${options.runs} --scenario ${options.scenarios.join(',')} --rate ${options.rate} --throttle ${options.throttle} --connections ${options.connections.join(',')} --stall-timeout ${options.stallTimeoutS} --engine ${options.engine}${options.baseline ? ` --baseline ${options.baseline}` : ''}`;
}

export function renderMarkdown(machine: MachineInfo, options: BenchOptions, results: ScenarioResult[], loadAtEnd: number[], elapsedMs: number): string {
  const v = machine.versions;
  const lines = [
    `# Benchmark results, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, Linux ${machine.kernel}; load average ${machine.loadAverageAtStart.join(' / ')} at start, ${loadAtEnd.join(' / ')} at the end.`,
    `- Versions: Node ${v.node}, nginx ${v.nginx}, ${v.curl}, ${v.aria2c}, ${v.wget}, ${v.tar}, ${v.gzip}, ${v.pigz}; Snapshot Manager: ${machine.commit}.`,
    `- Reproduce: \`${reproduceLine(options)}\` (inputs are generated into \`$BENCH_DIR\`, default /tmp/snapshot-manager-bench, and reused). Whole run: ${(elapsedMs / 60000).toFixed(1)} min.`,
    ...(options.note ? [`- Note: ${options.note}`] : []),
    '',
  ];
  for (const r of results) {
    lines.push(`## Scenario ${r.id}: ${r.title}`, '');
    for (const s of r.setup) lines.push(`- ${s}`);
    lines.push('');
    for (const t of r.tables) lines.push(t, '');
    for (const f of r.findings) lines.push(`- ${f}`);
    lines.push('');
  }
  return lines.join('\n');
}
