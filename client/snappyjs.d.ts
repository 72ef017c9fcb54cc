// snappyjs ships no types; the two functions the client uses (a Buffer in gives a Buffer out).
declare module 'snappyjs' {
  export function compress(input: Buffer): Buffer;
  export function uncompress(input: Buffer, maxLength?: number): Buffer;
}
