// The wait for a fresh link: a range refused with 401/403 after the probe succeeded (an expired presigned
// URL) pauses the job as link-expired, keeping everything. The refresh command, if there is one, is asked
// for a link; otherwise (or when it fails) the job waits for one (the window's Replace link), or, where no
// one can give it (the CLI), stops with E_LINK_EXPIRED and its state kept, so that a run with the new link
// continues. Shared like the other waits: every chunk refused joins the one wait already running.
import { LinkExpiredError, toEngineError, type EngineError } from '../errors';
import type { PauseReason } from '../events';
import { redactUrl } from '../transfer/redact';
import { runRefreshCommand } from './refresh-command';
import type { JobEventInput } from './run-context';

export interface LinkHost {
  readonly cancelSignal: AbortSignal;
  /** 'wait': paused until a new link comes (the window); 'stop': the job ends with E_LINK_EXPIRED (the CLI). */
  readonly onExpiry: 'wait' | 'stop';
  url(): string;
  refreshCommand(): string | null;
  /** Bytes fetched so far: a refreshed link that brings none before it is refused again does not work. */
  fetched(): number;
  pausedFor(): PauseReason | null;
  pause(reason: PauseReason): void;
  whileRunning(): Promise<void>;
  emit(event: JobEventInput): void;
  /** Verifies and takes the link (see Job.replaceUrl); resumes the job; throws when refused. */
  replaceUrl(url: string): Promise<void>;
}

export class LinkWait {
  private current: Promise<void> | null = null;
  /** bytes fetched when the command last gave a link. */
  private fetchedAtRefresh: number | null = null;

  constructor(private readonly host: LinkHost) {}

  waitForNewLink(cause: EngineError): Promise<void> {
    this.current ??= this.untilNewLink(cause).finally(() => {
      this.current = null;
    });
    return this.current;
  }

  private async untilNewLink(cause: EngineError): Promise<void> {
    const h = this.host;
    const where = redactUrl(h.url());
    const status = (cause.details['status'] as number | undefined) ?? null;
    const said = (cause.details['linkRefusal'] as string | null | undefined) ?? null;
    const refused = `The link to ${where} was refused (HTTP ${status ?? '401/403'}${said ? `, ${said}` : ''}) after the job started: a signed link has probably expired.`;
    h.pause('link-expired');
    const command = h.refreshCommand();
    h.emit({
      type: 'warning',
      code: 'LINK_EXPIRED',
      message:
        `${refused} Everything fetched so far is kept. ${command ? 'Asking the refresh command for a new link.' : h.onExpiry === 'wait' ? 'Replace the link to continue.' : ''}`.trim(),
    });
    let problem: string | null = null;
    if (command) {
      problem = await this.refresh(command);
      if (problem === null) return;
      h.emit({ type: 'warning', code: 'LINK_REFRESH_FAILED', message: `${problem[0]!.toUpperCase()}${problem.slice(1)}; the job stays paused as link-expired.` });
    }
    if (h.onExpiry === 'stop') {
      throw new LinkExpiredError(
        `${refused}${problem ? ` ${problem[0]!.toUpperCase()}${problem.slice(1)}.` : ''} Everything fetched so far is kept: run the same get again with a fresh link to the same file and it continues where it stopped` +
          (command ? '.' : ' (or give --refresh-url-command to get one automatically).'),
        { cause, details: { status, linkRefusal: said, ...(problem ? { refresh: problem } : {}) } },
      );
    }
    // Resumed by a replaced link (or by the operator, who may know the old one works again).
    await h.whileRunning();
  }

  /** Runs the command and takes its link: null when the job continues, else what went wrong. */
  private async refresh(command: string): Promise<string | null> {
    const h = this.host;
    if (this.fetchedAtRefresh !== null && h.fetched() === this.fetchedAtRefresh) {
      return 'the link the refresh command gave last time was refused before a byte arrived';
    }
    const outcome = await runRefreshCommand(command, {
      signal: h.cancelSignal,
      onStderr: (line) => h.emit({ type: 'warning', code: 'LINK_REFRESH_STDERR', message: `refresh command: ${line}` }),
    });
    if (h.cancelSignal.aborted) throw h.cancelSignal.reason;
    if (!outcome.ok) return outcome.message;
    try {
      await h.replaceUrl(outcome.url);
    } catch (err) {
      return `the link the refresh command printed was not taken (${toEngineError(err).message})`;
    }
    this.fetchedAtRefresh = h.fetched();
    return null;
  }
}
