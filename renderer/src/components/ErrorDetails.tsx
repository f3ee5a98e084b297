// An error in an operator's words first; the code, the message and the whole cause chain one click away,
// and "Copy details" for a report.
import { useId, useState } from 'react';
import type { SerializedError } from '../store/model';
import { errorHeadline } from '../store/format';
import { errorReport } from '../store/error-text';
import { copyText } from '../copy';

export function CauseChain({ error }: { error: SerializedError }) {
  return (
    <ol className="cause-chain" aria-label="Cause chain">
      <li>
        <code>{error.code}</code> {error.message}
      </li>
      {error.causes.map((cause, i) => (
        <li key={i}>
          {cause.code ? <code>{cause.code}</code> : null} {cause.message}
        </li>
      ))}
    </ol>
  );
}

export function CopyDetails({ error, context }: { error: SerializedError; context?: Parameters<typeof errorReport>[1] }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <>
      <button
        type="button"
        className="link"
        onClick={() => {
          void copyText(errorReport(error, context)).then(setCopied);
        }}
      >
        Copy details
      </button>
      {copied === null ? null : (
        <span role="status" className="muted">
          {copied ? 'Copied.' : 'Could not copy: select the details instead.'}
        </span>
      )}
    </>
  );
}

export function ErrorDetails({ error, open: initiallyOpen = false, context }: { error: SerializedError; open?: boolean; context?: Parameters<typeof errorReport>[1] }) {
  const [open, setOpen] = useState(initiallyOpen);
  const id = useId();
  return (
    <div className="error-details">
      <span className="error-headline">{errorHeadline(error)}</span>{' '}
      <button type="button" className="link" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        {open ? 'Hide details' : 'Details'}
      </button>{' '}
      <CopyDetails error={error} {...(context ? { context } : {})} />
      {open ? (
        <div id={id}>
          <CauseChain error={error} />
          {error.retryable ? <p className="muted">Retrying can help.</p> : null}
        </div>
      ) : null}
    </div>
  );
}
