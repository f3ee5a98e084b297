// The add form's "Access" section: request headers a private origin needs (one `Name: value` a line, typed
// masked, shown back as names only) and a command that prints a fresh link when a signed one expires. A
// component of its own so the form only holds its draft and adds its fields to the request.
import { useId, useState } from 'react';
import type { AddJobRequest } from '../../../shared/contract';
import { headerLines, maskedHeaders } from '../store/header-lines';

export interface AccessDraft {
  headers: string;
  refreshCommand: string;
}

export const emptyAccess: AccessDraft = { headers: '', refreshCommand: '' };

/** The request's fields for the draft (none when left empty). */
export function accessRequest(d: AccessDraft): Pick<AddJobRequest, 'headers' | 'refreshUrlCommand'> {
  const lines = headerLines(d.headers);
  return {
    ...(lines.length > 0 ? { headers: lines } : {}),
    ...(d.refreshCommand.trim() !== '' ? { refreshUrlCommand: d.refreshCommand.trim() } : {}),
  };
}

export function RequestAccessFields({ value, onChange, errors }: { value: AccessDraft; onChange: (d: AccessDraft) => void; errors: Record<string, string> }) {
  const id = useId();
  const [reveal, setReveal] = useState(false);
  const masked = maskedHeaders(value.headers);
  // A refusal is about the lines as they were sent: once edited, it no longer stands.
  // (The form sends a new errors object with each answer: an edit hides the one it was made under.)
  const [editedUnder, setEditedUnder] = useState<{ headers?: object; command?: object }>({});
  const headersError = editedUnder.headers === errors ? undefined : errors['headers'];
  const commandError = editedUnder.command === errors ? undefined : errors['refreshUrlCommand'];
  return (
    <details className="advanced access" open={value.headers !== '' || value.refreshCommand !== '' || !!headersError || !!commandError ? true : undefined}>
      <summary>Access (headers, link refresh)</summary>
      <div className="field wide">
        <label htmlFor={`${id}-headers`}>Request headers (one “Name: value” a line)</label>
        <textarea
          id={`${id}-headers`}
          className={reveal ? 'header-lines' : 'header-lines masked'}
          rows={3}
          autoComplete="off"
          spellCheck={false}
          placeholder="Authorization: Bearer …"
          value={value.headers}
          onChange={(e) => {
            setEditedUnder((d) => ({ ...d, headers: errors }));
            onChange({ ...value, headers: e.target.value });
          }}
          aria-invalid={headersError ? true : undefined}
          aria-describedby={`${id}-headers-note`}
        />
        <label className="check">
          <input type="checkbox" checked={reveal} onChange={(e) => setReveal(e.target.checked)} /> Show the values while typing
        </label>
        <p id={`${id}-headers-note`} className="muted field-note">
          {masked.length > 0 ? `Sent to this link’s origin only: ${masked.join(', ')}` : 'Sent only to the link’s own origin, kept readable by you only, never shown again.'}
        </p>
        {headersError ? <p className="field-error">{headersError}</p> : null}
      </div>
      <div className="field wide">
        <label htmlFor={`${id}-refresh`}>Refresh-link command (optional)</label>
        <input
          id={`${id}-refresh`}
          type="text"
          autoComplete="off"
          spellCheck={false}
          placeholder="aws s3 presign s3://bucket/snapshot.tar.zst"
          value={value.refreshCommand}
          onChange={(e) => {
            setEditedUnder((d) => ({ ...d, command: errors }));
            onChange({ ...value, refreshCommand: e.target.value });
          }}
          aria-invalid={commandError ? true : undefined}
        />
        {commandError ? <p className="field-error">{commandError}</p> : <p className="muted field-note">Run when the link expires; the first line it prints is the fresh link.</p>}
      </div>
    </details>
  );
}
