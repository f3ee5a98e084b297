// The pauses the app asks of every job at once (suspend, offline): which jobs pauseAll paused and why, so that
// resumeAll(reason) undoes only its own pauses, and a job held for two reasons resumes once both are gone.
// A pause, resume or cancel the operator asks for takes the job out of the holds.
import type { PauseReason } from '../engine/events';
import type { JobModel } from './job-model';

export interface HoldHost {
  jobs(): Iterable<JobModel>;
  model(id: string): JobModel | undefined;
  isRunning(id: string): boolean;
  pause(id: string, reason: PauseReason): void;
  resume(id: string): void;
  /** A new run of a job whose run ended while it was held. */
  startAgain(id: string): void;
}

export class PauseHolds {
  /** Reasons (suspend, offline) for which pauseAll paused a job; it resumes when none is left. */
  private readonly heldBy = new Map<string, Set<PauseReason>>();

  constructor(private readonly host: HoldHost) {}

  has(id: string): boolean {
    return this.heldBy.has(id);
  }

  release(id: string): void {
    this.heldBy.delete(id);
  }

  /** Pauses every running job, remembering why. */
  pauseAll(reason: PauseReason): string[] {
    const h = this.host;
    const paused: string[] = [];
    for (const m of h.jobs()) {
      const held = this.heldBy.get(m.id);
      if (held) {
        // Already held for another reason (suspend while offline): it resumes only when both are gone.
        held.add(reason);
        continue;
      }
      // A job the operator paused, or one that stopped by itself, stays as it is.
      if (!h.isRunning(m.id) || m.isTerminal || m.state === 'paused') continue;
      this.heldBy.set(m.id, new Set([reason]));
      h.pause(m.id, reason);
      paused.push(m.id);
    }
    return paused;
  }

  resumeAll(reason: PauseReason): string[] {
    const h = this.host;
    const resumed: string[] = [];
    for (const [id, reasons] of [...this.heldBy]) {
      if (!reasons.delete(reason) || reasons.size > 0) continue;
      this.heldBy.delete(id);
      const m = h.model(id);
      if (!m || m.isTerminal) continue;
      if (h.isRunning(id)) h.resume(id);
      else h.startAgain(id);
      resumed.push(id);
    }
    return resumed;
  }
}
