// Event-loop delay of the thread that answers IPC while a job extracts a large .tar.gz at full speed
// from a loopback origin, with the engine on that same thread and with the engine in a worker thread.
// Also reports the messages per second the coalescer hands to the transport.
//
//   node dist/harness/event-loop.js [--size-mb 200] [--mode both|worker|in-process]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { JobManager } from '../electron/host/job-manager';
import { InProcessRunner } from '../electron/engine/runner/in-process-runner';
import { WorkerRunner } from '../electron/engine/runner/worker-runner';
import type { JobRunner } from '../electron/engine/runner/runner';
import { Job } from '../electron/engine/job/job';
import { Host } from '../electron/host/host';

export interface LoopDelayResult {
  mode: 'in-process' | 'worker';
  archiveBytes: number;
  elapsedMs: number;
  throughputMiBps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  messages: number;
  messagesPerSecond: number;
  /** Most messages for the job within any one second. */
  peakMessagesPerSecond: number;
}

/**
 * Writes a .tar.gz of about `sizeMiB` compressed: files of 3 MiB random bytes plus 1 MiB of
 * repetitive text, so inflating does real work and the output is bigger than the input.
 */
export function makeArchive(dir: string, sizeMiB: number): string {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  const files = Math.max(1, Math.round(sizeMiB / 3.05));
  const text = Buffer.from('block height 123456 state root 0xabcdef tx count 42\n'.repeat(20_000)).subarray(0, 1024 * 1024);
  for (let i = 0; i < files; i++) {
    const fd = openSync(join(src, `part-${String(i).padStart(4, '0')}.db`), 'w');
    try {
      writeSync(fd, randomBytes(3 * 1024 * 1024));
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  }
  const archive = join(dir, 'snapshot.tar.gz');
  const r = spawnSync('sh', ['-c', `tar -C "${src}" -cf - . | gzip -1 > "${archive}"`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not build the archive');
  rmSync(src, { recursive: true, force: true });
  return archive;
}

/**
 * The loopback origin runs in its own process, so the delay measured here is the IPC thread's own
 * (engine and coalescer), not the cost of serving 200 MB from the same thread.
 */
async function startOrigin(archive: string): Promise<{ url: string; child: ChildProcess }> {
  const helper = join(__dirname, 'fault-server.js');
  const script = `const { FaultServer } = require(${JSON.stringify(helper)});
(async () => {
  const s = await FaultServer.start({ writeSize: 256 * 1024 });
  await s.serve('/snapshot.tar.gz', { file: ${JSON.stringify(archive)} });
  console.log(s.url('/snapshot.tar.gz'));
})();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { url: line.trim(), child };
}

export async function measureEventLoop(mode: 'in-process' | 'worker', archive: string, workDir: string): Promise<LoopDelayResult> {
  const origin = await startOrigin(archive);
  const runner: JobRunner = mode === 'worker' ? new WorkerRunner() : new InProcessRunner((o, id) => new Job(o, id));
  const dataDir = mkdtempSync(join(workDir, `data-${mode}-`));
  const manager = await JobManager.open({ dataDir, runner });
  const host = new Host(manager, { transport: 'websocket', version: 'bench', platform: process.platform, destinationsFromDialogOnly: false });
  // Stand-in for a transport: every message is serialised as the WebSocket would.
  const sentAt: number[] = [];
  host.subscribe((events) => {
    JSON.stringify(events);
    sentAt.push(performance.now());
  });
  const histogram = monitorEventLoopDelay({ resolution: 2 });
  try {
    const started = performance.now();
    histogram.enable();
    const job = await manager.add({ url: origin.url, dest: join(dataDir, 'dest'), chunkSize: 16 * 1024 * 1024, window: 4 });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const state = manager.view(job.id).state;
        if (state === 'done') {
          clearInterval(timer);
          resolve();
        } else if (state === 'failed' || state === 'cancelled') {
          clearInterval(timer);
          reject(new Error(`the job ended ${state}: ${manager.view(job.id).error?.message ?? ''}`));
        }
      }, 20);
    });
    histogram.disable();
    const elapsedMs = performance.now() - started;
    const archiveBytes = statSync(archive).size;
    let peak = 0;
    for (let i = 0, j = 0; i < sentAt.length; i++) {
      while (sentAt[i]! - sentAt[j]! >= 1000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    return {
      mode,
      archiveBytes,
      elapsedMs: Math.round(elapsedMs),
      throughputMiBps: +(archiveBytes / 1024 / 1024 / (elapsedMs / 1000)).toFixed(1),
      p50Ms: +(histogram.percentile(50) / 1e6).toFixed(2),
      p99Ms: +(histogram.percentile(99) / 1e6).toFixed(2),
      maxMs: +(histogram.max / 1e6).toFixed(2),
      messages: sentAt.length,
      messagesPerSecond: +(sentAt.length / (elapsedMs / 1000)).toFixed(1),
      peakMessagesPerSecond: peak,
    };
  } finally {
    histogram.disable();
    host.close();
    await manager.close();
    origin.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The noise floor: the same histogram over a thread with nothing to do (the machine's own load shows here). */
export async function measureIdle(ms: number): Promise<{ p50Ms: number; p99Ms: number; maxMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 2 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, ms));
  histogram.disable();
  return { p50Ms: +(histogram.percentile(50) / 1e6).toFixed(2), p99Ms: +(histogram.percentile(99) / 1e6).toFixed(2), maxMs: +(histogram.max / 1e6).toFixed(2) };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const sizeMiB = Number(arg('--size-mb', '200'));
  const which = arg('--mode', 'both');
  const modes = which === 'both' ? (['in-process', 'worker'] as const) : ([which as 'in-process' | 'worker'] as const);
  const work = mkdtempSync(join(tmpdir(), 'sm-bench-loop-'));
  try {
    const archive = makeArchive(work, sizeMiB);
    process.stderr.write(`archive: ${(statSync(archive).size / 1024 / 1024).toFixed(1)} MiB\n`);
    const idle = await measureIdle(3000);
    process.stdout.write(`${JSON.stringify({ mode: 'idle', ...idle })}\n`);
    process.stderr.write(`idle       p50 ${idle.p50Ms} ms  p99 ${idle.p99Ms} ms  max ${idle.maxMs} ms (noise floor of this machine now)\n`);
    for (const mode of modes) {
      const r = await measureEventLoop(mode, archive, work);
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.stderr.write(
        `${mode.padEnd(10)} p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  max ${r.maxMs} ms  ${r.throughputMiBps} MiB/s  ${r.messagesPerSecond} msg/s (peak ${r.peakMessagesPerSecond}/s)\n`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
