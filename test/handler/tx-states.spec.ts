// doc/architecture.md §7: the transition table of a prepared message, row by row; anything else is refused.
import assert from 'node:assert/strict';
import { IllegalTxMove, nextTxState, TX_MOVES, type TxEvent, type TxState, txStateOf } from '../../handler/tx-states';

const states: TxState[] = ['prepared', 'checking', 'committed', 'rolledBack', 'deadLettered'];
const events: TxEvent[] = ['commit', 'rollback', 'checkDue', 'unknown', 'noAnswer', 'giveUp', 'finalCommit', 'redrive'];

// The whole table as a user would state it: [from, event, to].
const legal: [TxState, TxEvent, TxState][] = [
  ['prepared', 'commit', 'committed'],
  ['prepared', 'rollback', 'rolledBack'],
  ['prepared', 'checkDue', 'checking'],
  ['prepared', 'giveUp', 'deadLettered'],
  ['prepared', 'finalCommit', 'committed'],
  ['checking', 'commit', 'committed'],
  ['checking', 'rollback', 'rolledBack'],
  ['checking', 'unknown', 'prepared'],
  ['checking', 'noAnswer', 'prepared'],
  ['checking', 'giveUp', 'deadLettered'],
  ['checking', 'finalCommit', 'committed'],
  ['committed', 'commit', 'committed'],
  ['rolledBack', 'rollback', 'rolledBack'],
  ['deadLettered', 'redrive', 'prepared'],
];

describe('tx states - the transition table (handler/tx-states.ts)', () => {
  for (const [from, event, to] of legal) {
    it(`${from} --${event}--> ${to}`, () => {
      assert.equal(nextTxState(from, event), to);
    });
  }

  const isLegal = (from: TxState, event: TxEvent) => legal.some(([f, e]) => f === from && e === event);
  for (const from of states) {
    const refused = events.filter((event) => !isLegal(from, event));
    it(`${from} refuses ${refused.join(', ') || 'nothing'}`, () => {
      for (const event of refused) {
        assert.throws(
          () => nextTxState(from, event),
          (error: unknown) => error instanceof IllegalTxMove && error.from === from && error.event === event,
        );
      }
    });
  }

  it('holds exactly the rows above (nothing hidden in the table)', () => {
    const rows = Object.entries(TX_MOVES).flatMap(([from, moves]) =>
      Object.entries(moves).map(([event, to]) => `${from}|${event}|${to}`),
    );
    assert.deepEqual(rows.sort(), legal.map((r) => r.join('|')).sort());
  });

  it('cannot be changed at run time', () => {
    assert.throws(() => {
      (TX_MOVES.committed as Record<string, string>).rollback = 'rolledBack';
    }, TypeError);
  });

  it('reads a stored message as committed, prepared, or checking while a check-back awaits its answer', () => {
    assert.equal(txStateOf(true), 'committed');
    assert.equal(txStateOf(false), 'prepared');
    assert.equal(txStateOf(false, true), 'checking');
    assert.equal(txStateOf(true, true), 'committed');
  });

  it('names the state and the event when it refuses', () => {
    assert.throws(() => nextTxState('committed', 'rollback'), /cannot take "rollback" in state "committed"/);
  });
});
