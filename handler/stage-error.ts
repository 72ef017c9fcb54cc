// An unexpected error (a bug, not bad input) while a stage handled one connection's packet: that
// connection is closed and the broker serves everyone else (doc/security.md). The stage's name
// travels with the error to the one log line that reports it.
import { ProtocolError } from '../protocol/errors';

export class StageError extends Error {
  constructor(
    readonly stage: string,
    override readonly cause: unknown,
  ) {
    super(`${stage}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StageError';
  }
}

/** error labelled with `stage` unless it is bad input or already labelled by an inner stage */
export function inStage(stage: string, error: unknown): unknown {
  return error instanceof ProtocolError || error instanceof StageError ? error : new StageError(stage, error);
}

/**
 * Tests only: wraps each stage as the pipeline is built (e.g. one that throws). Absent in
 * production, where building the pipeline is the only cost.
 */
export type StageInterceptor = <F extends (...args: never[]) => unknown>(stage: string, fn: F) => F;
