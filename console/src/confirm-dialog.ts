// A confirmation stating what an action will do (and to how many messages): a modal <dialog>,
// Escape or Cancel answers no.
import { html } from './html';
import { modalChannel } from './modal';

interface Request {
  text: string;
  confirmLabel: string;
  resolve: (yes: boolean) => void;
}

const channel = modalChannel<Request>();

export function confirmAction(text: string, confirmLabel = 'Confirm'): Promise<boolean> {
  return new Promise((resolve) => channel.open({ text, confirmLabel, resolve }) || resolve(false));
}

export function ConfirmDialog() {
  const { request, ref, close } = channel.useModal();
  const finish = (yes: boolean) => {
    request?.resolve(yes);
    close();
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
