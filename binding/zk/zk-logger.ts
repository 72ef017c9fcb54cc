// The logger the zk registry writes to: pino's shape (obj, msg), so a pino logger or the
// broker's RegistryLogger can be injected. Default: pino at 'warn' (problems only).
import pino from 'pino';

export interface ZkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error?(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export function defaultZkLogger(): ZkLogger {
  return pino({ name: 'kiteq-zk', level: 'warn' });
}
