// The package's version for the console's Overview, read once from package.json (two levels above
// dist/server/http at run time, and above server/http in the sources).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let version: string | undefined;

export function packageVersion(): string {
  if (version !== undefined) return version;
  for (const up of ['../../..', '../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'kiteq-ts' && pkg.version) return (version = pkg.version);
    } catch {
      // not there: try the next level
    }
  }
  return (version = 'unknown');
}
