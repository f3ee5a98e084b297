// Paths in requests are judged by the host's platform, not only by their shape: the schema accepts both
// POSIX and Windows forms (the renderer may not know where the host runs), and `C:\x` sent to a Linux
// host would otherwise resolve against the host's working directory and create folders there.
import { platformPathProblem } from '../../shared/schemas';

/** Fields of each request that name a path on the host. */
const PATH_FIELDS: Partial<Record<string, readonly string[]>> = {
  addJob: ['dest', 'output'],
  setSettings: ['defaultDest'],
  chooseDestination: ['defaultPath'],
};

export function platformPathIssues(channel: string, data: unknown, platform: string): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const record = data as Record<string, unknown> | null;
  for (const field of PATH_FIELDS[channel] ?? []) {
    const value = record?.[field];
    if (typeof value !== 'string') continue;
    const problem = platformPathProblem(value, platform);
    if (problem) issues.push({ path: field, message: problem });
  }
  return issues;
}
