// A consumer group's subscription (doc/architecture.md §3). JSON shape as KiteQ writes it in
// /kiteq/sub/<topic>/<groupId>-bind: {groupId, topic, messageType, bindType, version, watermark, persistent}.
export const BindType = { DIRECT: 0, REGX: 1, FANOUT: 2 } as const;
export type BindTypeCode = (typeof BindType)[keyof typeof BindType];

/** doc/architecture.md §3: watermark ≤ 0 means the default rate cap. */
export const DEFAULT_WATERMARK = 6000;

export interface Binding {
  groupId: string;
  topic: string;
  /** exact type (direct), a regular expression (regx) or "*" (fanout) */
  messageType: string;
  bindType: BindTypeCode;
  version: string;
  /** messages/s cap for this group; ≤ 0 → DEFAULT_WATERMARK */
  watermark: number;
  /** false: with no consumer online, the message counts as delivered to this group */
  persistent: boolean;
}

export function directBinding(
  groupId: string,
  topic: string,
  messageType: string,
  options: Partial<Binding> = {},
): Binding {
  return {
    groupId,
    topic,
    messageType,
    bindType: BindType.DIRECT,
    version: '1.0.0',
    watermark: 1000,
    persistent: true,
    ...options,
  };
}

export function regxBinding(groupId: string, topic: string, pattern: string, options: Partial<Binding> = {}): Binding {
  return {
    groupId,
    topic,
    messageType: pattern,
    bindType: BindType.REGX,
    version: '1.0.0',
    watermark: 1000,
    persistent: true,
    ...options,
  };
}

export function fanoutBinding(groupId: string, topic: string, options: Partial<Binding> = {}): Binding {
  return {
    groupId,
    topic,
    messageType: '*',
    bindType: BindType.FANOUT,
    version: '1.0.0',
    watermark: 1000,
    persistent: true,
    ...options,
  };
}

export function effectiveWatermark(binding: Binding): number {
  return binding.watermark > 0 ? binding.watermark : DEFAULT_WATERMARK;
}

export class InvalidBindingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBindingError';
  }
}

const bindTypeNames: Record<string, BindTypeCode> = { direct: 0, regx: 1, fanout: 2 };

/**
 * Validates one binding from untrusted JSON/YAML (a -bind node, the registry file).
 * bindType may be numeric (KiteQ's JSON) or a name (KiteQ's YAML). Throws InvalidBindingError.
 */
export function parseBinding(raw: unknown): Binding {
  if (typeof raw !== 'object' || raw === null) throw new InvalidBindingError('binding is not an object');
  const r = raw as Record<string, unknown>;
  const str = (key: string): string => {
    if (typeof r[key] !== 'string' || r[key] === '')
      throw new InvalidBindingError(`binding.${key} must be a non-empty string`);
    return r[key] as string;
  };
  const groupId = str('groupId');
  const topic = str('topic');
  let bindType: BindTypeCode;
  if (typeof r.bindType === 'number' && [0, 1, 2].includes(r.bindType)) bindType = r.bindType as BindTypeCode;
  else if (typeof r.bindType === 'string' && r.bindType in bindTypeNames) bindType = bindTypeNames[r.bindType];
  else
    throw new InvalidBindingError(`binding.bindType ${JSON.stringify(r.bindType)} is not 0/direct, 1/regx or 2/fanout`);
  const messageType =
    bindType === BindType.FANOUT ? (typeof r.messageType === 'string' ? r.messageType : '*') : str('messageType');
  if (bindType === BindType.REGX) {
    try {
      new RegExp(messageType);
    } catch (error) {
      throw new InvalidBindingError(
        `binding.messageType ${JSON.stringify(messageType)} is not a valid regular expression: ${(error as Error).message}`,
      );
    }
  }
  const watermark = r.watermark === undefined ? 0 : Number(r.watermark);
  if (!Number.isFinite(watermark))
    throw new InvalidBindingError(`binding.watermark ${JSON.stringify(r.watermark)} is not a number`);
  const persistent = r.persistent === undefined ? true : Boolean(r.persistent);
  const version = typeof r.version === 'string' ? r.version : '1.0.0';
  return { groupId, topic, messageType, bindType, version, watermark, persistent };
}
