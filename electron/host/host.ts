// The host side of the contract: one dispatch table serving both transports (Electron IPC and the
// WebSocket of `serve`). Every call is checked for its sender by the transport, then validated here
// against the contract's schema; anything invalid is answered with E_VALIDATION, never thrown at the
// transport. Engine changes reach the renderer through the progress coalescer.
import type { EventMessage, InvokeChannel, InvokeResponse, InvokeResult, Settings, ValidatedRequest } from '../../shared/contract';
import { isInvokeChannel } from '../../shared/channels';
import { requestSchemas } from '../../shared/schemas';
import { EngineError, serializeError, type SerializedError } from '../engine/errors';
import type { JobManager } from './job-manager';
import { ProgressCoalescer, type CoalescerOptions } from './coalescer';
import { HostError } from './host-error';
import { isSameOrInside } from './paths';
import { platformPathIssues } from './platform-paths';
import { checkDestination } from './destination-check';

export interface PlatformServices {
  transport: 'electron' | 'websocket';
  version: string;
  platform: string;
  /** Native folder dialog (Electron); absent over the WebSocket, where the operator types a path. */
  chooseDestination?(options: { title?: string | undefined; defaultPath?: string | undefined }): Promise<string | null>;
  /** Opens the OS file manager at a path (Electron). */
  revealInFolder?(path: string): Promise<void> | void;
  /**
   * Electron: a destination must come from the folder dialog or lie inside the default-destination
   * setting (itself chosen in the dialog), never be a raw path from the renderer.
   */
  destinationsFromDialogOnly: boolean;
}

export interface CallContext {
  /** Set by the transport after its sender/origin check; an untrusted call is refused. */
  trusted: boolean;
}

type Handler<C extends InvokeChannel> = (request: ValidatedRequest<C>) => Promise<InvokeResponse<C>> | InvokeResponse<C>;
type DispatchTable = { [C in InvokeChannel]: Handler<C> };

export type EventListener = (events: EventMessage[]) => void;

const MAX_ERROR_MESSAGE = 1000;

export class Host {
  readonly coalescer: ProgressCoalescer;
  private readonly listeners = new Set<EventListener>();
  /** Folders the operator picked in the native dialog during this run. */
  private readonly approvedFolders = new Set<string>();
  private readonly table: DispatchTable;
  /** Calls answered, by outcome, for the figures and the fuzz test's consistency checks. */
  readonly stats = { ok: 0, invalid: 0, failed: 0, refused: 0 };

  constructor(
    private readonly manager: JobManager,
    private readonly platform: PlatformServices,
    coalescerOptions: CoalescerOptions = {},
  ) {
    this.coalescer = new ProgressCoalescer(manager, (_jobId, events) => this.broadcast(events), coalescerOptions);
    manager.setChangeListener(this.coalescer);
    this.table = this.buildTable();
  }

  /** Adds a transport's event sink; returns its removal. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Answers one call; never throws. */
  async dispatch(channel: unknown, payload: unknown, context: CallContext): Promise<InvokeResult> {
    if (!context.trusted) {
      this.stats.refused++;
      return { ok: false, error: new HostError('E_FORBIDDEN', 'The sender of this message is not the app').serialize() };
    }
    if (!isInvokeChannel(channel)) {
      this.stats.invalid++;
      return { ok: false, error: new HostError('E_VALIDATION', `Unknown channel ${describe(channel)}`).serialize() };
    }
    const parsed = requestSchemas[channel].safeParse(payload ?? {});
    if (!parsed.success) {
      this.stats.invalid++;
      const issues = parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
      const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
      return { ok: false, error: new HostError('E_VALIDATION', truncate(`Invalid ${channel} request: ${text}`), { issues }).serialize() };
    }
    const pathIssues = platformPathIssues(channel, parsed.data, this.platform.platform);
    if (pathIssues.length > 0) {
      this.stats.invalid++;
      const text = pathIssues.map((i) => `${i.path}: ${i.message}`).join('; ');
      return { ok: false, error: new HostError('E_VALIDATION', truncate(`Invalid ${channel} request: ${text}`), { issues: pathIssues }).serialize() };
    }
    try {
      const handler = this.table[channel] as Handler<InvokeChannel>;
      const value = await handler(parsed.data as never);
      this.stats.ok++;
      return { ok: true, value };
    } catch (err) {
      this.stats.failed++;
      return { ok: false, error: toSerialized(err) };
    }
  }

  close(): void {
    this.coalescer.stop();
    this.listeners.clear();
  }

  private broadcast(events: EventMessage[]): void {
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch {
        // A transport that fails to deliver (a closed window, a dead socket) must not stop the others.
      }
    }
  }

  private buildTable(): DispatchTable {
    const m = this.manager;
    const p = this.platform;
    return {
      getInfo: () => ({
        version: p.version,
        transport: p.transport,
        platform: p.platform,
        capabilities: { chooseDestination: !!p.chooseDestination, revealInFolder: !!p.revealInFolder },
      }),
      listJobs: () => m.list(),
      getJob: ({ jobId }) => m.get(jobId),
      addJob: async (request) => {
        const target = request.dest ?? request.output!;
        this.assertDestinationAllowed(target, request.dest === undefined);
        // What is known before starting is said next to the field, not as a job that fails at once.
        const { problem } = await checkDestination(target, { downloadOnly: request.dest === undefined, force: request.force === true });
        if (problem)
          throw new EngineError(problem.code, problem.message, {
            details: { path: target, issues: [{ path: request.dest === undefined ? 'output' : 'dest', message: problem.message }] },
          });
        const job = await m.add(request);
        return job;
      },
      addManifestJob: async (request) => {
        this.assertDestinationAllowed(request.dest, false);
        const { problem } = await checkDestination(request.dest, { downloadOnly: false, force: request.force === true });
        if (problem) throw new EngineError(problem.code, problem.message, { details: { path: request.dest, issues: [{ path: 'dest', message: problem.message }] } });
        return m.addManifest(request);
      },
      pauseJob: ({ jobId }) => m.pause(jobId, 'user'),
      resumeJob: ({ jobId }) => m.resume(jobId),
      cancelJob: ({ jobId, deleteFiles }) => m.cancel(jobId, { deleteFiles: deleteFiles === true }),
      removeJob: async ({ jobId }) => {
        await m.remove(jobId);
        this.coalescer.removed(jobId);
        return { jobId };
      },
      retryChunkNow: ({ jobId, index }) => ({ jobId, index, retried: m.retryChunkNow(jobId, index) }),
      setRateLimit: ({ jobId, limitRate }) => m.setRateLimit(jobId, limitRate),
      replaceLink: ({ jobId, url }) => m.replaceLink(jobId, url),
      getChunkHistory: ({ jobId, index }) => m.chunkHistory(jobId, index),
      getJobLog: ({ jobId }) => m.jobLog(jobId),
      getSettings: () => m.settings(),
      setSettings: (patch) => {
        if (patch.defaultDest) this.assertDestinationAllowed(patch.defaultDest, false, true);
        return m.updateSettings(patch as Partial<Settings>);
      },
      checkDestination: async ({ path, downloadOnly, force }) => {
        this.assertDestinationAllowed(path, downloadOnly === true);
        return checkDestination(path, { downloadOnly: downloadOnly === true, force: force === true });
      },
      chooseDestination: async (request) => {
        if (!p.chooseDestination) throw new HostError('E_UNSUPPORTED', 'No folder dialog here: type the destination path');
        const path = await p.chooseDestination({ title: request.title, defaultPath: request.defaultPath ?? m.settings().defaultDest ?? undefined });
        if (path) this.approvedFolders.add(path);
        return { path };
      },
      revealInFolder: async ({ jobId }) => {
        const job = m.view(jobId);
        if (!p.revealInFolder) throw new HostError('E_UNSUPPORTED', 'Revealing a folder is only possible in the desktop app');
        const path = job.dest ?? job.output;
        if (!path) return { revealed: false };
        await p.revealInFolder(path);
        return { revealed: true };
      },
    };
  }

  /**
   * In the desktop app a path to write must come from the dialog (or lie inside the default
   * destination, itself from the dialog). Over the WebSocket the operator holds the token, i.e. a
   * shell on the machine, and types paths: the schema's checks (absolute, no . or ..) apply.
   */
  private assertDestinationAllowed(path: string, isFile: boolean, exactOnly = false): void {
    if (!this.platform.destinationsFromDialogOnly) return;
    const roots = [...this.approvedFolders];
    const fallback = this.manager.settings().defaultDest;
    if (fallback && !exactOnly) roots.push(fallback);
    const ok = roots.some((root) => (exactOnly ? root === path : isSameOrInside(path, root, isFile)));
    if (!ok) throw new HostError('E_FORBIDDEN', 'Choose the destination with the folder dialog', { path });
  }
}

function toSerialized(err: unknown): SerializedError {
  if (err instanceof HostError) return err.serialize();
  const e = serializeError(err);
  return { ...e, message: truncate(e.message) };
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_MESSAGE ? `${text.slice(0, MAX_ERROR_MESSAGE)}…` : text;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value.slice(0, 64)));
  return typeof value;
}
