// The dead-letter schedule (doc/architecture.md §6, §8): messages past their deliverLimit or expiredTime move to
// the dead-letter area (kite_msg_dlq for mysql://) on a schedule. KiteQ runs its MoveExpired once a
// day at `dlqExecHour`, so a broker started at 03:00 with dlqExecHour=2 leaves them for 23 hours; we
// run once at start, then every `intervalMs`, or daily at `dailyHour` (local time) when that is set.
// Each store call is bounded (`batch` rows, short transactions inside the store); a run repeats it
// until a call moves fewer, so a large backlog drains without one long lock.
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';

export interface DlqMoverStore {
  moveExpiredToDlq?(nowSec: number, limit: number): Promise<number>;
}

export interface DlqSchedule {
  /** run every this many ms (used when dailyHour is unset) */
  intervalMs: number;
  /** 0–23: run daily at this local hour (KiteQ's dlqExecHour) instead of every intervalMs */
  dailyHour?: number;
}

export interface DlqMoverDeps {
  store: DlqMoverStore;
  log: Logger;
  clock: Clock;
  schedule: DlqSchedule;
  /** rows per store call */
  batch: number;
}

/** ms from `nowMs` to the next `hour`:00 local time (strictly later: a run at 02:00:00 waits a day). */
export function msUntilHour(nowMs: number, hour: number): number {
  const next = new Date(nowMs);
  next.setHours(hour, 0, 0, 0);
  if (next.getTime() <= nowMs) next.setDate(next.getDate() + 1);
  return next.getTime() - nowMs;
}

/** ms until the run after one at `nowMs`. */
export function nextDelayMs(nowMs: number, schedule: DlqSchedule): number {
  return schedule.dailyHour === undefined ? schedule.intervalMs : msUntilHour(nowMs, schedule.dailyHour);
}

export class DlqMover {
  private timer: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(private readonly deps: DlqMoverDeps) {}

  /** false for stores without dead-letter moves (memory://, file:// dead-letter inline). */
  get supported(): boolean {
    return typeof this.deps.store.moveExpiredToDlq === 'function';
  }

  /** First run now (not a day late), then on the schedule. */
  start(): void {
    if (!this.supported) return;
    void this.runNow();
  }

  /** Runs once (or joins the running one); resolves with the rows moved. Never rejects. */
  runNow(): Promise<number> {
    if (this.running) return this.running;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.stopped) return;
      const delay = nextDelayMs(this.deps.clock.nowMs(), this.deps.schedule);
      this.timer = this.deps.clock.setTimeout(() => void this.runNow(), delay);
    });
    return this.running;
  }

  private async run(): Promise<number> {
    const { store, log, clock, batch } = this.deps;
    let moved = 0;
    try {
      for (;;) {
        if (this.stopped) break;
        const n = await store.moveExpiredToDlq!(Math.floor(clock.nowMs() / 1000), batch);
        moved += n;
        if (n < batch) break;
      }
    } catch (error) {
      log.error({ err: error, moved }, 'dead letters: moving expired messages failed; the next run tries again');
    }
    if (moved > 0) log.info({ moved }, 'dead letters: moved expired or over-limit messages');
    return moved;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
