// doc/architecture.md §5 "access": CONN_META must be a connection's first packet; the group's secret key is
// checked (KiteQ never checks it, doc/architecture.md §12) and answered with CONN_AUTH. A refused key gets
// ConnAuthAck{status false} and the connection is closed; the broker carries on.
import type { ConnMeta } from '../protocol/messages/conn-meta';
import type { SessionPort } from './session-port';

/**
 * The one refusal text for an unknown group and a wrong key: the wire does not say whether a
 * group exists (doc/security.md). The log line keeps which it was.
 */
export const AUTH_REFUSED_FEEDBACK = 'authentication failed: unknown group or wrong secret key';

export interface AuthenticatingSession extends SessionPort {
  replyConnAuth(opaque: number, status: boolean, feedback: string): void;
  markAuthenticated(meta: ConnMeta): void;
}

export interface AccessDeps {
  /** null when allowed, else the reason (for the log only) */
  authenticate: (groupId: string, secretKey: string, remote: string) => string | null;
  /** a refusal sent without the key being looked at (too many refused keys), else null */
  refuseUnchecked: (session: AuthenticatingSession, groupId: string) => string | null;
  onAuthenticated: (session: AuthenticatingSession) => void;
  onRejected: (session: AuthenticatingSession, groupId: string, reason: string) => void;
}

export function createAccessStage({ authenticate, refuseUnchecked, onAuthenticated, onRejected }: AccessDeps) {
  return function access(session: AuthenticatingSession, opaque: number, meta: ConnMeta): void {
    if (session.authenticated) {
      session.close('CONN_META sent twice on one connection');
      return;
    }
    const blocked = refuseUnchecked(session, meta.groupId);
    if (blocked !== null) {
      session.replyConnAuth(opaque, false, blocked);
      session.close(`handshake refused without checking the key: ${blocked}`);
      return;
    }
    const refusal = authenticate(meta.groupId, meta.secretKey, session.remote);
    if (refusal !== null) {
      session.replyConnAuth(opaque, false, AUTH_REFUSED_FEEDBACK);
      onRejected(session, meta.groupId, refusal);
      session.close(`authentication failed for group ${meta.groupId}: ${refusal}`);
      return;
    }
    session.markAuthenticated(meta);
    session.replyConnAuth(opaque, true, 'secret key ok');
    onAuthenticated(session);
  };
}
