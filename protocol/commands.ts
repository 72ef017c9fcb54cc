// Command codes of KiteQ's wire protocol (doc/architecture.md §2).
export const CmdType = {
  HEARTBEAT: 0x01,
  CONN_META: 0x02,
  CONN_AUTH: 0x03,
  MESSAGE_STORE_ACK: 0x04,
  DELIVER_ACK: 0x05,
  TX_ACK: 0x06,
  BYTES_MESSAGE: 0x11,
  STRING_MESSAGE: 0x12,
} as const;

export type CmdTypeCode = (typeof CmdType)[keyof typeof CmdType];

const known = new Set<number>(Object.values(CmdType));

export function isKnownCmdType(code: number): code is CmdTypeCode {
  return known.has(code);
}

/** Message-carrying commands: a publish (client→server) or a delivery (server→client). */
export function isMessageCmd(code: number): code is typeof CmdType.BYTES_MESSAGE | typeof CmdType.STRING_MESSAGE {
  return code === CmdType.BYTES_MESSAGE || code === CmdType.STRING_MESSAGE;
}

/** doc/architecture.md §2: the server treats DELIVER_ACK as a reply to one of its deliveries. */
export function isReplyForServer(code: number): boolean {
  return code === CmdType.DELIVER_ACK;
}

/** doc/architecture.md §2: the client treats CONN_AUTH, HEARTBEAT and MESSAGE_STORE_ACK as replies. */
export function isReplyForClient(code: number): boolean {
  return code === CmdType.CONN_AUTH || code === CmdType.HEARTBEAT || code === CmdType.MESSAGE_STORE_ACK;
}

export function cmdName(code: number): string {
  for (const [name, value] of Object.entries(CmdType)) if (value === code) return name;
  return `0x${code.toString(16).padStart(2, '0')}`;
}
