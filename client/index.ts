// The public API of the kiteq-ts npm package (package.json "exports" maps "." here alone); every
// export is named, values and types apart (doc/client.md).
export { KiteQClient } from './kiteq-client';
export type { ClientState, ClientStatus, CloseOptions, SendResult } from './kiteq-client';
export type {
  ClientOptions,
  ClientLogger,
  LocalTransaction,
  MessageListener,
  TxCheckListener,
  TxDecision,
} from './options';
export { DEFAULTS as CLIENT_DEFAULTS } from './options';
export type { RetryOptions } from './retry';
export type { SendOptions } from './send-options';
export { ClientEvent } from './events';
export type { ClientEvents, ClientEventName, ClientEventListener } from './events';
export type { BrokerStatus } from './broker-pool';
export type { BrokerState } from './broker-state';
export { buildStringMessage, buildBytesMessage, messageProperties, newMessageId } from './message-builder';
export type { Message, StringMessage, BytesMessage, MessageOptions } from './message-builder';
export { directBinding, regxBinding, fanoutBinding, BindType } from '../binding/binding';
export type { Binding } from '../binding/binding';
export {
  KiteQError,
  BrokerRejectedError,
  TimeoutError,
  ConnectionClosedError,
  ProtocolViolationError,
  ClientClosedError,
} from './errors';
export type { MessageHeader } from '../protocol/messages/header';
export type { ClientTlsOptions } from './connection';
export type { Registry } from '../binding/registry';
