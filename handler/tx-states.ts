// The life of a prepared (transactional) message, in one table (doc/architecture.md §7). handler/tx-ack.ts and
// the check-back scheduler (server/tx-checker.ts) ask nextTxState() before every move; a move
// not in the table throws IllegalTxMove (a bug, or a late TX_ACK worth a log line).
//
//   prepared ──commit──▶ committed          prepared ──rollback──▶ rolledBack
//   prepared ──checkDue──▶ checking ──unknown | noAnswer──▶ prepared (asked again after the back-off)
//   checking ──commit | rollback──▶ committed | rolledBack   (a late commit after unknown is honoured)
//   prepared | checking ──giveUp──▶ deadLettered            (max checks reached, final action rollback)
//   prepared | checking ──finalCommit──▶ committed          (max checks reached, final action commit)
//   deadLettered ──redrive──▶ prepared                      (an operator re-drove it: checked back again,
//                                                           never delivered as is)
export type TxState = 'prepared' | 'checking' | 'committed' | 'rolledBack' | 'deadLettered';
export type TxEvent =
  'commit' | 'rollback' | 'checkDue' | 'unknown' | 'noAnswer' | 'giveUp' | 'finalCommit' | 'redrive';

export const TX_MOVES: Readonly<Record<TxState, Readonly<Partial<Record<TxEvent, TxState>>>>> = Object.freeze({
  prepared: Object.freeze({
    commit: 'committed',
    rollback: 'rolledBack',
    checkDue: 'checking',
    giveUp: 'deadLettered',
    finalCommit: 'committed',
  } as const),
  checking: Object.freeze({
    commit: 'committed',
    rollback: 'rolledBack',
    unknown: 'prepared', // asked again after the back-off
    noAnswer: 'prepared', // the asked producer stayed silent: another member next time
    giveUp: 'deadLettered', // max checks reached: final action rollback, kept as a dead letter
    finalCommit: 'committed', // max checks reached: final action commit
  } as const),
  committed: Object.freeze({ commit: 'committed' } as const), // a retrying producer may commit twice
  rolledBack: Object.freeze({ rollback: 'rolledBack' } as const), // and roll back twice
  // decided by the final action; a re-drive makes it prepared again, with its check-backs from the start
  deadLettered: Object.freeze({ redrive: 'prepared' } as const),
});

export class IllegalTxMove extends Error {
  constructor(
    readonly from: TxState,
    readonly event: TxEvent,
  ) {
    super(`transactional message cannot take "${event}" in state "${from}"`);
    this.name = 'IllegalTxMove';
  }
}

export function nextTxState(from: TxState, event: TxEvent): TxState {
  const to = TX_MOVES[from][event];
  if (to === undefined) throw new IllegalTxMove(from, event);
  return to;
}

/**
 * A stored message's state. The store keeps only the commit flag (prepared messages are stored
 * with commit=false); "checking" is the broker's memory of a check-back awaiting its answer.
 */
export function txStateOf(commit: boolean, checking = false): TxState {
  if (commit) return 'committed';
  return checking ? 'checking' : 'prepared';
}
