// The 19-byte packet header of KiteQ (turbo), big-endian (doc/architecture.md §2):
//   opaque uint32 | cmdType uint8 | version int16 | extension int64 | bodyLen int32
export const OPAQUE_OFFSET = 0;
export const CMD_TYPE_OFFSET = 4;
export const VERSION_OFFSET = 5;
export const EXTENSION_OFFSET = 7;
export const BODY_LEN_OFFSET = 15;
export const HEADER_LEN = 19;

/** Default cap on bodyLen (doc/architecture.md §2: over 2 MiB closes the connection). */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface PacketHeader {
  opaque: number;
  cmdType: number;
  version: number;
  extension: bigint;
  bodyLen: number;
}

/**
 * Byte stores, not writeUInt32BE and friends: those validate their arguments on every call, and
 * this runs for every packet either side sends (callers pass a uint32 opaque, a known cmdType and a
 * bodyLen within the frame limit). Version and extension are 0.
 */
export function writeHeader(target: Buffer, offset: number, opaque: number, cmdType: number, bodyLen: number): void {
  target[offset] = opaque >>> 24;
  target[offset + 1] = opaque >>> 16;
  target[offset + 2] = opaque >>> 8;
  target[offset + 3] = opaque;
  target[offset + CMD_TYPE_OFFSET] = cmdType;
  for (let i = offset + VERSION_OFFSET; i < offset + BODY_LEN_OFFSET; i++) target[i] = 0;
  target[offset + BODY_LEN_OFFSET] = bodyLen >>> 24;
  target[offset + BODY_LEN_OFFSET + 1] = bodyLen >>> 16;
  target[offset + BODY_LEN_OFFSET + 2] = bodyLen >>> 8;
  target[offset + BODY_LEN_OFFSET + 3] = bodyLen;
}

export function readHeader(source: Buffer, offset: number): PacketHeader {
  return {
    opaque: source.readUInt32BE(offset + OPAQUE_OFFSET),
    cmdType: source.readUInt8(offset + CMD_TYPE_OFFSET),
    version: source.readInt16BE(offset + VERSION_OFFSET),
    extension: source.readBigInt64BE(offset + EXTENSION_OFFSET),
    bodyLen: source.readInt32BE(offset + BODY_LEN_OFFSET),
  };
}

/** One whole packet: header then body, as a fresh buffer. */
export function encodePacket(opaque: number, cmdType: number, body: Uint8Array): Buffer {
  const packet = Buffer.allocUnsafe(HEADER_LEN + body.length);
  writeHeader(packet, 0, opaque, cmdType, body.length);
  packet.set(body, HEADER_LEN);
  return packet;
}
