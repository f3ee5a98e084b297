// How the writer's steps refuse a member: a Skip, caught by the coordinator and turned into a warning
// (or, in strict mode, a fatal error). Never an EngineError: nothing failed, the archive asked for too much.
import type { EntryWarningCode } from '../extract-types';

export class Skip {
  constructor(
    readonly code: EntryWarningCode,
    readonly reason: string,
  ) {}
}
