// `get --manifest`: the parts in order into one folder (see engine/parts/parts-job.ts), reported like one job.
import { UsageError, formatBytes } from '../engine/errors';
import { type JobOptions } from '../engine/job/job-options';
import { formatDuration } from '../engine/units';
import { headerSetFor } from '../engine/transfer/origin-headers';
import { loadManifest } from '../engine/parts/manifest-source';
import { PartsJob, type PartEvent } from '../engine/parts/parts-job';
import { createDispatcher } from '../engine/transfer/http';
import { connectingText } from '../../shared/connecting';
import { watchInterrupts } from './signals';
import { EXIT, reportFailure } from './exit-codes';
import { ProgressLine } from './progress-line';

/** `get --manifest`: the parts in order into one folder (see engine/parts/parts-job.ts), reported like one job. */
export async function runParts(manifest: string, common: JobOptions, headerArgs: string[], json: boolean): Promise<number> {
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
    if (e.type === 'warning')
      process.stderr.write(
        `${progress ? '\n' : ''}${e.code === 'RESUMED' || e.code === 'FILES_KEPT' ? 'note' : 'warning'} ${e.code}${e.entry ? ` (${e.entry})` : ''}: ${e.message}\n`,
      );
    if (e.type === 'connect-retry') process.stderr.write(`${progress ? '\n' : ''}${connectingText(e, e.at)}\n`);
  });
  const interrupts = watchInterrupts(
    () => parts.cancel(),
    () => process.exit(EXIT.interrupted),
  );
  try {
    const summary = await parts.run();
    progress?.end();
    if (json)
      process.stdout.write(
        JSON.stringify({
          type: 'parts-done',
          parts: summary.parts.map((p) => ({ index: p.index, skipped: p.skipped, entries: p.summary.entries, bytesFetched: p.summary.bytesFetched })),
          elapsedMs: summary.elapsedMs,
          at: Date.now(),
        }) + '\n',
      );
    else {
      const fetched = summary.parts.reduce((n, p) => n + (p.skipped ? 0 : p.summary.bytesFetched), 0);
      const entries = summary.parts.reduce((n, p) => n + p.summary.entries, 0);
      process.stderr.write(
        `done: ${summary.parts.length} parts (${summary.parts.filter((p) => p.skipped).length} done earlier), ${formatBytes(fetched)} fetched in ${formatDuration(summary.elapsedMs)}, ${entries} entries\n`,
      );
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
