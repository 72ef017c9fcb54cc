import { ProtocolError } from '../errors';

/** Runs a protobufjs decoder; any failure (truncated, bad wire type, missing required field) is a ProtocolError. */
export function decodeOrThrow<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw new ProtocolError(`undecodable ${what}: ${(error as Error).message}`, 'decode');
  }
}
