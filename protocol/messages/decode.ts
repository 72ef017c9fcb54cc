import { ProtocolError } from '../errors';

/** The ProtocolError for a body that did not decode (a closure-free form of decodeOrThrow for the hot path). */
export function undecodable(what: string, error: unknown): ProtocolError {
  return new ProtocolError(`undecodable ${what}: ${(error as Error).message}`, 'decode');
}

/** Runs a protobufjs decoder; any failure (truncated, bad wire type, missing required field) is a ProtocolError. */
export function decodeOrThrow<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw undecodable(what, error);
  }
}
