// "Replace link" on a job paused as link-expired (or failed): a fresh link to the same file continues it with
// everything it fetched. The engine checks that the link serves the same object and refuses one that does not.
import { useState } from 'react';
import { useApp, useAction } from '../context';
import type { JobView } from '../store/model';

/** Whether the control applies: a link that expired, or a job that stopped (perhaps for the same reason). */
export function canReplaceLink(job: Pick<JobView, 'state' | 'reason'>): boolean {
  return (job.state === 'paused' && job.reason === 'link-expired') || job.state === 'failed';
}

export function ReplaceLinkControl({ job }: { job: JobView }) {
  const { api } = useApp();
  const run = useAction();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = `link-${job.info.id}`;
  const submit = () => {
    const url = text.trim();
    if (!/^https?:\/\/\S+$/i.test(url)) {
      setError('Give the new link as an http:// or https:// URL.');
      return;
    }
    setError(null);
    void run('The link was not replaced', async () => {
      await api.replaceLink({ jobId: job.info.id, url });
      setText('');
    });
  };
  return (
    <form
      className="panel replace-link"
      aria-label="Replace link"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label htmlFor={id}>{job.reason === 'link-expired' ? 'The link expired: paste a fresh link to the same file' : 'Continue with another link to the same file'}</label>
      <input
        id={id}
        type="url"
        autoComplete="off"
        spellCheck={false}
        value={text}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
      />
      <button type="submit" disabled={text.trim() === ''}>
        Replace link
      </button>
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
