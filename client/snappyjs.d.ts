// snappyjs ships no types; the two functions the client uses.
declare module 'snappyjs' {
  export function compress(input: Buffer | Uint8Array | ArrayBuffer): Buffer | Uint8Array;
  export function uncompress(input: Buffer | Uint8Array | ArrayBuffer, maxLength?: number): Buffer | Uint8Array;
}
