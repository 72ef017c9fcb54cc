import { ProtocolError } from '../errors';

/** The ProtocolError for a body that did not decode (truncated, bad wire type, missing required field). */
export function undecodable(what: string, error: unknown): ProtocolError {
  return new ProtocolError(`undecodable ${what}: ${(error as Error).message}`, 'decode');
}
