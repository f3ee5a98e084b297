// The job's sources: its URL (the primary, the reference for size and identity) and the mirrors. Each mirror
// is probed at the start and kept only if it serves the same file (see mirror-verdict.ts); each source's
// validators are pinned from its own probe and checked on each of its answers. A failing source is benched
// (see bench.ts) and tried again later; a mirror that turns out to be another file is dropped. The job goes
// on while any source serves: only when none is usable does a range back off as it would with one source.
import { toEngineError, UpstreamChangedError, type EngineError } from '../../errors';
import type { SourceSummary } from '../../events';
import type { ProbeResult } from '../probe';
import type { Validators } from '../range-fetch';
import type { RetryPolicy } from '../retry-policy';
import { BENCH_AFTER_FAILURES, benchDelayMs } from './bench';
import { mirrorVerdict } from './mirror-verdict';
import { newSource, summarize, type Source } from './source';
import { redactUrl } from '../redact';
import { chooseSource, type Choice } from './source-choice';

/** Weight of the newest range in a source's throughput figure. */
const RATE_WEIGHT = 0.3;
/** Ranges shorter than this say more about latency than throughput: not measured. */
const MEASURED_MIN_BYTES = 16 * 1024;

export interface SourceSetDeps {
  /** The primary as probed now (a replaced link changes it while the job runs). */
  primary(): ProbeResult;
  /** One probe of a mirror (no retries: a mirror that does not answer is benched and probed again later). */
  probe(url: string): Promise<ProbeResult>;
  /** --sha256 or --md5 will judge the result: a mirror with another ETag may serve, its bytes are checked. */
  checksumGiven: boolean;
  policy: RetryPolicy;
  warn(code: string, message: string): void;
  /** A source changed state (benched, dropped, back): the window is told. */
  changed(): void;
}

export class SourceSet {
  readonly sources: Source[];

  private constructor(
    primaryUrl: string,
    mirrors: readonly string[],
    private readonly deps: SourceSetDeps,
  ) {
    this.sources = [newSource(0, primaryUrl, deps.primary()), ...mirrors.map((url, i) => newSource(i + 1, url, null))];
  }

  /** The sources with every mirror probed once (in parallel); none of their failures is the job's. */
  static async open(primaryUrl: string, mirrors: readonly string[], deps: SourceSetDeps): Promise<SourceSet> {
    const set = new SourceSet(primaryUrl, mirrors, deps);
    await Promise.all(set.sources.slice(1).map((s) => set.probeMirror(s)));
    return set;
  }

  get hasMirrors(): boolean {
    return this.sources.length > 1;
  }

  /** The source for the next attempt at a range (see source-choice.ts); mirrors due a probe again get it. */
  choose(avoid: Source | null, now = performance.now()): Choice {
    for (const s of this.sources) if (s.probed === null && s.state === 'benched' && !s.probing && s.benchedUntil <= now) void this.probeMirror(s);
    return chooseSource(this.sources, now, avoid);
  }

  /** Where a range of `s` is asked for, and what its answers must match. */
  target(s: Source): { url: string; pinned: Validators } {
    const p = s.id === 0 ? this.deps.primary() : s.probed!;
    return { url: p.finalUrl, pinned: { size: p.size!, etag: p.etag, weakEtag: p.weakEtag, lastModified: p.lastModified } };
  }

  /** Bytes of `a` may continue a range `b` began: one source, or both proved the primary's object. */
  sameObject(a: Source, b: Source): boolean {
    return a === b || (a.provenSame && b.provenSame);
  }

  started(s: Source): void {
    s.inflight++;
    s.requests++;
  }

  ended(s: Source): void {
    s.inflight = Math.max(0, s.inflight - 1);
  }

  received(s: Source, bytes: number): void {
    s.bytes += bytes;
  }

  /** A range of `s` completed: its throughput measured, its failures forgiven, back from the bench. */
  succeeded(s: Source, bytes: number, ms: number): void {
    s.consecutiveFailures = 0;
    s.benches = 0;
    if (bytes >= MEASURED_MIN_BYTES && ms > 0) {
      const rate = bytes / (ms / 1000);
      s.rate = s.rate === null ? rate : s.rate + RATE_WEIGHT * (rate - s.rate);
    }
    if (s.state === 'benched') {
      s.state = 'active';
      s.reason = null;
      this.deps.changed();
    }
  }

  /**
   * An attempt on `s` failed. A mirror that changed, or refused for good, is dropped (never the primary: its
   * change is the job's error, as with one source); otherwise the failure counts, and enough in a row bench it.
   */
  failed(s: Source, e: EngineError, now = performance.now()): void {
    s.failures++;
    if (s.role === 'mirror' && (e instanceof UpstreamChangedError || !e.retryable)) {
      this.drop(s, e.message);
      return;
    }
    s.consecutiveFailures++;
    if (!this.hasMirrors || s.consecutiveFailures < BENCH_AFTER_FAILURES) return;
    const first = s.state === 'active';
    const ms = this.bench(s, e.message, now);
    // Said once per series: a source still failing when its bench ends goes back quietly, for longer.
    if (first) {
      const what = s.role === 'primary' ? 'The URL' : 'Mirror';
      this.deps.warn(
        s.role === 'primary' ? 'URL_BENCHED' : 'MIRROR_BENCHED',
        `${what} ${redactUrl(s.probed?.finalUrl ?? s.url)} failed ${s.consecutiveFailures} times in a row (${e.code}); no new ranges go to it for ${(ms / 1000).toFixed(1)} s, then it is tried again. The other sources go on.`,
      );
    }
  }

  drop(s: Source, reason: string): void {
    if (s.state === 'dropped' || s.role === 'primary') return;
    s.state = 'dropped';
    s.reason = reason;
    this.deps.warn('MIRROR_DROPPED', `Mirror dropped: ${reason}. Nothing it sent after that was kept.`);
    this.deps.changed();
  }

  summary(): SourceSummary[] {
    this.sources[0]!.probed = this.deps.primary();
    const nowPerf = performance.now();
    const nowWall = Date.now();
    return this.sources.map((s) => summarize(s, nowPerf, nowWall));
  }

  /** Benches `s` (longer with each bench in a row); returns for how long. */
  private bench(s: Source, reason: string, now: number): number {
    s.benches++;
    const ms = benchDelayMs(this.deps.policy, s.benches);
    s.benchedUntil = now + ms;
    const wasActive = s.state === 'active';
    s.state = 'benched';
    s.reason = reason;
    if (wasActive) this.deps.changed();
    return ms;
  }

  /** Probes a mirror; a mirror that does not answer is benched (probed again when its bench ends), not fatal. */
  private async probeMirror(s: Source): Promise<void> {
    s.probing = true;
    try {
      const p = await this.deps.probe(s.url);
      const verdict = mirrorVerdict(this.deps.primary(), p, this.deps.checksumGiven);
      s.probed = p;
      if (!verdict.use) {
        this.drop(s, verdict.reason);
        return;
      }
      s.provenSame = verdict.provenSame;
      if (verdict.warning) this.deps.warn('MIRROR_UNVERIFIED', verdict.warning);
      if (s.state === 'benched') {
        s.state = 'active';
        s.reason = null;
        this.deps.changed();
      }
    } catch (err) {
      const e = toEngineError(err);
      s.failures++;
      s.consecutiveFailures = Math.max(s.consecutiveFailures + 1, BENCH_AFTER_FAILURES);
      if (s.role === 'mirror' && !e.retryable && e.code !== 'E_CONNECT') {
        this.drop(s, `its probe failed (${e.message})`);
        return;
      }
      const first = s.state === 'active';
      this.bench(s, e.message, performance.now());
      if (first) this.deps.warn('MIRROR_BENCHED', `Mirror benched: its probe failed (${e.message}); it is probed again later, the job goes on without it.`);
    } finally {
      s.probing = false;
    }
  }
}
