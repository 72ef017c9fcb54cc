// pino, structured, one line per event that matters (doc/architecture.md §10). No per-message lines at info.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(options: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const level = options.level ?? process.env.KITEQ_LOG_LEVEL ?? 'info';
  if (options.pretty) {
    return pino({ level, name: options.name, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level, name: options.name }, pino.destination({ dest: 2, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
