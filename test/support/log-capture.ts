// A real pino logger whose JSON lines a test can read back.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../server/logger';

export interface CapturedLog {
  log: Logger;
  /** every line written, parsed */
  readonly lines: Array<Record<string, unknown>>;
  /** the lines whose msg is `msg` */
  withMsg(msg: string): Array<Record<string, unknown>>;
}

export function captureLog(level = 'info'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, stream), lines, withMsg: (msg) => lines.filter((line) => line.msg === msg) };
}
