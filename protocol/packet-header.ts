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

export function writeHeader(target: Buffer, offset: number, opaque: number, cmdType: number, bodyLen: number): void {
  target.writeUInt32BE(opaque >>> 0, offset + OPAQUE_OFFSET);
  target.writeUInt8(cmdType, offset + CMD_TYPE_OFFSET);
  target.writeInt16BE(0, offset + VERSION_OFFSET);
  target.writeUInt32BE(0, offset + EXTENSION_OFFSET); // extension = 0 as two halves: no BigInt per packet
  target.writeUInt32BE(0, offset + EXTENSION_OFFSET + 4);
  target.writeInt32BE(bodyLen, offset + BODY_LEN_OFFSET);
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
