// The host's validation error, spread over the form's fields. The host reports issues as
// `details.issues: [{ path, message }]` (zod's shape); a path's first element names the field.
import type { SerializedError } from './model';

export function fieldErrors(error: SerializedError): Record<string, string> {
  const out: Record<string, string> = {};
  const issues = error.details?.['issues'];
  if (error.code !== 'E_VALIDATION' && error.code !== 'E_USAGE' && !Array.isArray(issues)) {
    const field = fieldForCode(error.code);
    if (field) out[field] = error.message;
    return out;
  }
  if (Array.isArray(issues)) {
    for (const issue of issues) {
      if (!issue || typeof issue !== 'object') continue;
      const { path, message } = issue as { path?: unknown; message?: unknown };
      const first = Array.isArray(path) ? path.find((p) => typeof p === 'string') : typeof path === 'string' ? path.split('.').find(Boolean) : undefined;
      const key = typeof first === 'string' && first !== 'payload' ? first : 'form';
      if (typeof message === 'string' && !out[key]) out[key] = sentence(message);
    }
  }
  if (Object.keys(out).length === 0) out['form'] = error.message;
  return out;
}

/** Engine errors that are about one field even though they come from deeper than validation. */
function fieldForCode(code: string): string | null {
  switch (code) {
    case 'E_BAD_URL':
    case 'E_PROBE':
    case 'E_CONNECT':
      return 'url';
    case 'E_DEST_NOT_EMPTY':
    case 'E_DEST_NOT_WRITABLE':
    case 'E_LOCKED':
      return 'dest';
    default:
      return null;
  }
}

function sentence(message: string): string {
  const trimmed = message.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
