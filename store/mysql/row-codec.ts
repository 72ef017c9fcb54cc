// StoredMessage <-> a row of KiteQ's kite_msg_<n> table (doc/architecture.md §8). Column meanings follow KiteQ's
// MessageEntity (blackbeans/kiteq store/kite_store.go) and its convertor (kite_mysql_convertor.go):
// header is the protobuf-encoded Header, body a blob (a string body as its UTF-8 bytes), succ_groups
// and fail_groups are JSON arrays (json.Marshal of a []string, so a nil slice is "null").
import { CmdType } from '../../protocol/commands';
import { decodeHeader, encodeHeader } from '../../protocol/messages/header';
import type { MessageCmd } from '../../protocol/messages/message';
import type { StoredMessage } from '../contract';

/** Columns we write on insert, in order. check_count is ours (doc/architecture.md §7); KiteQ has none. */
export const INSERT_COLUMNS = [
  'header',
  'body',
  'msg_type',
  'message_id',
  'topic',
  'message_type',
  'publish_group',
  'commit',
  'expired_time',
  'publish_time',
  'deliver_count',
  'deliver_limit',
  'kite_server',
  'fail_groups',
  'succ_groups',
  'next_deliver_time',
  'check_count',
] as const;

export const INSERT_COLUMN_LIST = INSERT_COLUMNS.map((c) => `\`${c}\``).join(',');
export const ROW_PLACEHOLDERS = `(${INSERT_COLUMNS.map(() => '?').join(',')})`;
/** What reads select: every insert column. */
export const SELECT_COLUMN_LIST = INSERT_COLUMN_LIST;

export interface MessageRow {
  header: Buffer;
  body: Buffer | null;
  msg_type: number;
  message_id: string;
  topic: string;
  message_type: string;
  publish_group: string;
  commit: number | null;
  expired_time: number;
  publish_time: number;
  deliver_count: number;
  deliver_limit: number;
  kite_server: string;
  fail_groups: string | null;
  succ_groups: string | null;
  next_deliver_time: number;
  check_count: number | null;
}

export function encodeGroups(groups: string[]): string {
  return JSON.stringify(groups);
}

/** KiteQ writes "null" for an empty Go slice; old rows may hold NULL or ''. */
export function decodeGroups(text: string | null): string[] {
  if (text === null || text === '' || text === 'null') return [];
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

export function rowValues(message: StoredMessage, kiteServer: string): unknown[] {
  const header = message.header;
  const body = typeof message.body === 'string' ? Buffer.from(message.body, 'utf8') : message.body;
  return [
    Buffer.from(message.encodedHeader ?? encodeHeader(header)),
    body,
    message.msgType,
    header.messageId,
    header.topic,
    header.messageType,
    header.groupId,
    header.commit ? 1 : 0,
    header.expiredTime,
    message.publishTime,
    message.deliverCount,
    header.deliverLimit,
    message.kiteServer || kiteServer,
    encodeGroups(message.failGroups),
    encodeGroups(message.succGroups),
    message.nextDeliverTime,
    message.checkCount,
  ];
}

export function messageFromRow(row: MessageRow): StoredMessage {
  const header = decodeHeader(row.header);
  // The commit column is the truth: commit() updates it, not the header blob (KiteQ does the same).
  header.commit = row.commit === 1;
  // protobufjs reports an absent optional bool as false; keep the header as it was built.
  if (!header.snappy) delete header.snappy;
  const msgType = (
    row.msg_type === CmdType.STRING_MESSAGE ? CmdType.STRING_MESSAGE : CmdType.BYTES_MESSAGE
  ) as MessageCmd;
  const rawBody = row.body ?? Buffer.alloc(0);
  return {
    header,
    msgType,
    body: msgType === CmdType.STRING_MESSAGE ? rawBody.toString('utf8') : Buffer.from(rawBody),
    publishTime: Number(row.publish_time ?? 0),
    deliverCount: Number(row.deliver_count ?? 0),
    succGroups: decodeGroups(row.succ_groups),
    failGroups: decodeGroups(row.fail_groups),
    nextDeliverTime: Number(row.next_deliver_time ?? 0),
    checkCount: Number(row.check_count ?? 0),
    kiteServer: row.kite_server ?? '',
  };
}
