// The broker's periodic sweep, on its clock (doc/architecture.md §6): every 100 ms deliveries not
// acked within the delivery timeout fail (only connections awaiting replies are looked at), and a
// tenth of the connections are checked for idleness, so each is once a second and no tick walks
// 10,000 of them (doc/scaling.md, Idle); every second the handshake throttle forgets old pairs and
// connections refused at the cap are logged.
import type { Clock, TimerHandle } from './clock';
import type { EvictionLimits, RegisteredSession, Sessions } from './sessions';

const SWEEP_MS = 100;
const IDLE_CHECK_MS = 1000;

export interface SweepDeps {
  clock: Clock;
  /** read at each sweep: a reload's timeouts apply at once */
  config: EvictionLimits & { readonly deliveryTimeoutMs: number };
  sessions: Pick<Sessions<RegisteredSession>, 'expirePending' | 'evictIdle' | 'size'>;
  handshakes: { sweep(): void };
  listener: { logRefusals(sessions: number): void };
}

export class Sweep {
  private timer: TimerHandle | null = null;
  private lastIdleCheckMs = 0;

  constructor(private readonly deps: SweepDeps) {}

  start(): void {
    this.timer = this.deps.clock.setTimeout(this.tick, SWEEP_MS);
  }

  stop(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Re-arms itself on the broker's clock until stopped. */
  private readonly tick = (): void => {
    if (this.timer === null) return; // stopped
    this.sweep();
    this.timer = this.deps.clock.setTimeout(this.tick, SWEEP_MS);
  };

  private sweep(): void {
    const { clock, config, sessions } = this.deps;
    const now = clock.nowMs();
    sessions.expirePending(now, config.deliveryTimeoutMs);
    sessions.evictIdle(now, config, SWEEP_MS / IDLE_CHECK_MS);
    if (now - this.lastIdleCheckMs < IDLE_CHECK_MS) return;
    this.lastIdleCheckMs = now;
    this.deps.handshakes.sweep();
    this.deps.listener.logRefusals(sessions.size);
  }
}
