// Whether a job may go on: running, or paused for a reason (the operator, offline, unreachable, disk full).
// Every task of the job passes the gate before its next step; a cancel opens it so that waiters see the cancel.
import type { PauseReason } from '../events';
import { deferred, type Deferred } from './deferred';

export class PauseGate {
  private current: PauseReason | null = null;
  private resumed: Deferred | null = null;

  constructor(private readonly cancel: AbortSignal) {}

  get reason(): PauseReason | null {
    return this.current;
  }

  /** True when this starts a pause (a second reason only replaces the first). */
  pause(reason: PauseReason): boolean {
    const starts = this.current === null;
    this.current = reason;
    if (starts) this.resumed = deferred();
    return starts;
  }

  /** True when the job was paused and now runs again. */
  resume(): boolean {
    if (this.current === null) return false;
    this.current = null;
    const r = this.resumed;
    this.resumed = null;
    r?.resolve();
    return true;
  }

  /** Wakes every waiter (they find the job cancelled). */
  wake(): void {
    this.resumed?.resolve();
  }

  /** Returns at once while running; waits while paused; throws when cancelled. */
  async whileRunning(): Promise<void> {
    for (;;) {
      if (this.cancel.aborted) throw this.cancel.reason;
      if (this.current === null) return;
      await this.resumed!.promise;
    }
  }
}
