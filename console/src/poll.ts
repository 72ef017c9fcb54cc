// Live data without reloading: fetch now and then every `everyMs` (the console polls at 1 Hz),
// keeping the last good answer and the last error apart.
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | null;
  error: string | null;
  refresh: () => void;
}

export function usePoll<T>(load: () => Promise<T>, everyMs = 1000, deps: unknown[] = []): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = useRef<() => void>(() => undefined);
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const run = async () => {
      window.clearTimeout(timer);
      try {
        const value = await load();
        if (stopped) return;
        setData(value);
        setError(null);
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
      if (!stopped) timer = window.setTimeout(run, everyMs);
    };
    tick.current = () => void run();
    void run();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, deps);
  return { data, error, refresh: () => tick.current() };
}
