// An error as plain text for a report: headline, code and message, the cause chain, and its details.
import type { SerializedError } from './model';
import { errorHeadline } from './format';

export function errorReport(error: SerializedError, context: { job?: string; url?: string; at?: number } = {}): string {
  const lines: string[] = [];
  if (context.job) lines.push(`job: ${context.job}`);
  if (context.url) lines.push(`url: ${context.url}`);
  if (context.at !== undefined) lines.push(`at: ${new Date(context.at).toISOString()}`);
  lines.push(`${errorHeadline(error)}`, `${error.code}: ${error.message}`);
  for (const c of error.causes) lines.push(`  caused by${c.code ? ` ${c.code}` : ''}: ${c.message}`);
  if (error.details && Object.keys(error.details).length > 0) lines.push(`details: ${JSON.stringify(error.details)}`);
  lines.push(`retryable: ${error.retryable ? 'yes' : 'no'}`);
  return lines.join('\n');
}
