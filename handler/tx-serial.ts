// One decision at a time per message (doc/architecture.md §7). A producer's TX_ACK and the check-back
// scheduler's final action can race on the same prepared message (the producer commits in the
// very moment the last check gives up); each reads the message's state and acts inside run(),
// so the loser sees the winner's outcome instead of dead-lettering a message just committed.
export class TxSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(messageId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(messageId);
    const next = previous ? previous.then(work, work) : work();
    const tail = next.catch(() => undefined);
    this.tails.set(messageId, tail);
    void tail.then(() => {
      if (this.tails.get(messageId) === tail) this.tails.delete(messageId);
    });
    return next;
  }

  get busy(): number {
    return this.tails.size;
  }
}
