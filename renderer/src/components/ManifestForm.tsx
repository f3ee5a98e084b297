// "Add from manifest": a snapshot published in parts, from its manifest's URL or the manifest pasted (a CSV
// with a URL column, a list of URLs, or JSON), into one folder. The host reads and checks the manifest; what
// it refuses is said next to the field.
import { useId, useState, type FormEvent } from 'react';
import { asSerializedError } from '../../../shared/contract';
import { useApp } from '../context';
import { fieldErrors } from '../store/field-errors';

export function ManifestForm({ onClose }: { onClose: () => void }) {
  const { api, store } = useApp();
  const [manifest, setManifest] = useState('');
  const [dest, setDest] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!manifest.trim()) local['manifest'] = 'Paste the manifest’s http:// or https:// address, or the manifest itself.';
    if (!dest.trim()) local['dest'] = 'Enter the folder to extract the parts into.';
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const job = await api.addManifestJob({ manifest: manifest.trim(), dest: dest.trim() });
      store.getState().ingest({ channel: 'jobSnapshot', payload: job });
      store.getState().selectJob(job.id);
      onClose();
    } catch (err) {
      const byField = fieldErrors(asSerializedError(err));
      // A manifest the host cannot read or parse is about the manifest field.
      if (byField['form'] && !byField['manifest']) byField['manifest'] = byField['form'];
      delete byField['form'];
      setErrors(byField);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel add-job" aria-label="Add from manifest">
      <h2>Add from manifest</h2>
      <form onSubmit={submit} noValidate>
        <div className="field wide">
          <label htmlFor={`${id}-manifest`}>Manifest (its URL, or paste it)</label>
          <textarea
            id={`${id}-manifest`}
            rows={4}
            spellCheck={false}
            placeholder={'https://snapshots.example.org/node/parts.csv\n— or —\nfilename,URL,md5,size'}
            value={manifest}
            onChange={(e) => setManifest(e.target.value)}
            aria-invalid={errors['manifest'] ? true : undefined}
            autoFocus
          />
          {errors['manifest'] ? <p className="field-error">{errors['manifest']}</p> : null}
        </div>
        <div className="field wide">
          <label htmlFor={`${id}-dest`}>Destination</label>
          <input
            id={`${id}-dest`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            placeholder="/data/node"
            value={dest}
            onChange={(e) => setDest(e.target.value)}
            aria-invalid={errors['dest'] ? true : undefined}
          />
          {errors['dest'] ? <p className="field-error">{errors['dest']}</p> : null}
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            Start
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}
