// The models' changes, passed on to the one listener (the coalescer), which may be set after models exist:
// until then they go nowhere.
import type { SerializedError } from '../engine/errors';
import type { EngineEvent } from '../engine/events';
import type { ModelChanges } from './job-model';

const NOOP_CHANGES: ModelChanges = { chunk() {}, progress() {}, window() {}, attempt() {}, state() {}, error() {} };

type AttemptEvent = Extract<EngineEvent, { type: 'attempt-started' | 'attempt-failed' | 'retry-scheduled' }>;

export class ChangeRelay implements ModelChanges {
  listener: ModelChanges = NOOP_CHANGES;

  chunk(id: string, index: number): void {
    this.listener.chunk(id, index);
  }

  progress(id: string): void {
    this.listener.progress(id);
  }

  window(id: string): void {
    this.listener.window(id);
  }

  attempt(id: string, event: AttemptEvent): void {
    this.listener.attempt(id, event);
  }

  state(id: string): void {
    this.listener.state(id);
  }

  error(id: string, error: SerializedError): void {
    this.listener.error(id, error);
  }
}
