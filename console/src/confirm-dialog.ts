// A confirmation stating what an action will do (and to how many messages): a modal <dialog>,
// Escape or Cancel answers no.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html';

interface Request {
  text: string;
  confirmLabel: string;
  resolve: (yes: boolean) => void;
}

let show: ((request: Request) => void) | null = null;

export function confirmAction(text: string, confirmLabel = 'Confirm'): Promise<boolean> {
  return new Promise((resolve) => (show ? show({ text, confirmLabel, resolve }) : resolve(false)));
}

export function ConfirmDialog() {
  const [request, setRequest] = useState<Request | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    show = setRequest;
    return () => {
      show = null;
    };
  }, []);
  useEffect(() => {
    const dialog = ref.current;
    if (request && dialog && !dialog.open) dialog.showModal();
  }, [request]);
  const finish = (yes: boolean) => {
    request?.resolve(yes);
    setRequest(null);
    ref.current?.close();
  };
  return html`<dialog ref=${ref} class="dialog" aria-labelledby="confirm-title" onCancel=${() => finish(false)}>
    <h2 id="confirm-title">Are you sure?</h2>
    <p data-testid="confirm-text">${request?.text}</p>
    <div class="actions">
      <button type="button" onClick=${() => finish(false)}>Cancel</button>
      <button type="button" class="primary" onClick=${() => finish(true)}>${request?.confirmLabel}</button>
    </div>
  </dialog>`;
}
