// Takeover of a dead broker's unfinished messages (doc/architecture.md §9, §12: in KiteQ they wait for their broker
// forever). ZooKeeper picks the one survivor that calls this; here we only rewrite kite_server, in
// bounded UPDATE ... LIMIT statements so no single statement locks a whole table for long.
import type { MysqlEndpoint } from './connection';
import type { Sharding } from './sharding';

const TAKEOVER_CHUNK = 1000;

export async function takeOver(
  endpoint: MysqlEndpoint,
  sharding: Sharding,
  deadServer: string,
  kiteServer: string,
): Promise<number> {
  if (deadServer === kiteServer) return 0;
  let moved = 0;
  for (const table of sharding.tables) {
    for (;;) {
      const result = await endpoint.execute(
        'takeOver',
        `UPDATE ${table.qualified} SET kite_server = ? WHERE kite_server = ? LIMIT ?`,
        [kiteServer, deadServer, TAKEOVER_CHUNK],
      );
      moved += result.affectedRows;
      if (result.affectedRows < TAKEOVER_CHUNK) break;
    }
  }
  return moved;
}
