// Loads an annotated hex fixture (test/fixtures/protocol/*.hex): `#` starts a comment, whitespace is
// ignored, the rest must be pairs of hex digits. Fixtures are written by hand from doc/architecture.md §2, so this
// loader is deliberately dumb: it never knows what the bytes mean.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// tsc does not copy .hex files: from the compiled test/support/ (dist/ inside the project, or an
// outDir elsewhere) look for the source tree's fixtures; the last resort is the project root as cwd.
const candidateDirs = [
  join(__dirname, '..', 'fixtures', 'protocol'),
  join(__dirname, '..', '..', '..', 'test', 'fixtures', 'protocol'),
  join(process.cwd(), 'test', 'fixtures', 'protocol'),
];

export function protocolFixturesDir(): string {
  const found = candidateDirs.find((dir) => existsSync(join(dir, 'heartbeat-request.hex')));
  if (found === undefined) throw new Error(`protocol fixtures not found in ${candidateDirs.join(', ')}`);
  return found;
}

/** Parses annotated hex text into bytes; throws naming the line on anything that is not hex. */
export function parseAnnotatedHex(text: string, source = 'fixture'): Buffer {
  let digits = '';
  text.split(/\r?\n/).forEach((line, index) => {
    const code = line.replace(/#.*$/, '').replace(/\s+/g, '');
    if (!/^[0-9a-fA-F]*$/.test(code)) throw new Error(`${source}:${index + 1}: not hex: ${JSON.stringify(code)}`);
    digits += code;
  });
  if (digits.length % 2 !== 0) throw new Error(`${source}: odd number of hex digits (${digits.length})`);
  return Buffer.from(digits, 'hex');
}

/** Reads test/fixtures/protocol/<name>.hex. */
export function loadProtocolFixture(name: string): Buffer {
  const file = join(protocolFixturesDir(), `${name}.hex`);
  return parseAnnotatedHex(readFileSync(file, 'utf8'), file);
}
