// The job manager's refusals: a job id it does not know, and a command the job's state does not allow.
import { EngineError } from '../engine/errors';

export class JobNotFoundError extends EngineError {
  constructor(id: string) {
    super('E_NOT_FOUND', `No job ${id}`, { details: { jobId: id } });
  }
}

export class JobConflictError extends EngineError {
  constructor(message: string, id: string) {
    super('E_CONFLICT', message, { details: { jobId: id } });
  }
}
