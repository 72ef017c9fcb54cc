// The one place the console asks for the admin token: a modal <dialog> (Escape cancels), opened by
// api.ts' act() and answered by the TokenDialog component mounted once in main.ts.
import { useState } from 'preact/hooks';
import { html } from './html';
import { modalChannel } from './modal';

interface Request {
  reason?: string;
  resolve: (token: string | null) => void;
}

const channel = modalChannel<Request>();

export function askToken(reason?: string): Promise<string | null> {
  return new Promise((resolve) => channel.open({ reason, resolve }) || resolve(null));
}

export function TokenDialog() {
  const { request, ref, close } = channel.useModal();
  const [value, setValue] = useState('');
  const finish = (token: string | null) => {
    request?.resolve(token);
    setValue('');
    close();
  };
  return html`<dialog ref=${ref} class="dialog" aria-labelledby="token-title" onCancel=${() => finish(null)}>
    <form
      method="dialog"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        finish(value.trim() === '' ? null : value.trim());
      }}
    >
      <h2 id="token-title">Admin token</h2>
      <p>
        This action changes the broker: give the <code>--http-token</code> it was started with. It is kept for this tab
        only.
      </p>
      ${request?.reason ? html`<p class="error" role="alert" data-testid="token-error">${request.reason}</p>` : null}
      <label
        >Token
        <input
          type="password"
          autocomplete="off"
          value=${value}
          onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)}
          autofocus
      /></label>
      <div class="actions">
        <button type="button" onClick=${() => finish(null)}>Cancel</button>
        <button type="submit" class="primary">Use token</button>
      </div>
    </form>
  </dialog>`;
}
