// The public API of the kiteq-ts npm package (package.json "exports" maps "." here alone).
export { KiteQClient } from './kiteq-client';
export type { ClientOptions, MessageListener, TxCheckListener, TxDecision, ClientLogger, SendResult } from './kiteq-client';
export { buildStringMessage, buildBytesMessage, messageProperties, newMessageId } from './message-builder';
export type { Message, StringMessage, BytesMessage, MessageOptions } from './message-builder';
export { directBinding, regxBinding, fanoutBinding, BindType } from '../binding/binding';
export type { Binding } from '../binding/binding';
export { KiteQError, BrokerRejectedError, TimeoutError, ConnectionClosedError } from './errors';
export type { MessageHeader } from '../protocol/messages/header';
export type { ClientTlsOptions } from './connection';
