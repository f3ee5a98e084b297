// Errors the host answers with before or around the engine: invalid payloads, untrusted senders,
// calls a transport cannot serve. Same serialised shape as the engine's errors.
import type { HostErrorCode } from '../../shared/channels';
import type { SerializedError } from '../engine/errors';

export class HostError extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HostError';
  }

  serialize(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      retryable: false,
      causes: [],
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
    };
  }
}
