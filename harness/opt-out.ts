// Tests that need a tool the operator opted out of by name (SKIP_BROWSER=1, SKIP_NGINX=1) skip with that
// reason; without the opt-out they run and fail if the tool is missing (scripts/test-prereqs.mjs installs it
// first). A missing tool is never a reason to skip on its own.
export type OptOut = 'SKIP_BROWSER' | 'SKIP_NGINX';

export function optedOut(name: OptOut): string | false {
  return /^(1|true|yes)$/i.test(process.env[name] ?? '') ? `skipped by request (${name}=1)` : false;
}
