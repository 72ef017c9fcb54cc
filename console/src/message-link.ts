// The cells every list of messages starts with: the id (opening the Messages view on it), topic and
// type, and the producer group.
import { html } from './html';

export function MessageLink({ id }: { id: string }) {
  return html`<a href=${`#/messages/${id}`}><code>${id}</code></a>`;
}

export function MessageCells({
  m,
}: {
  m: { messageId: string; topic: string; messageType: string; publishGroup: string };
}) {
  return html`<td><${MessageLink} id=${m.messageId} /></td>
    <td>${m.topic} / ${m.messageType}</td>
    <td>${m.publishGroup}</td>`;
}
