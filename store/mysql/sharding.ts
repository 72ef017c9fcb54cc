// KiteQ's table-per-bucket mapping (blackbeans/kiteq store/mysql/kite_mysql_shard.go), kept exactly so
// an existing KiteQ database is used as it is (doc/architecture.md §8):
//   bucket  = the last hex digit of the messageId (HashId), 0..15 (SHARD_SEED = 16)
//   hashNum = 16 / shardNum (integer division): tables per database
//   db      = `<db>_<k>` where bucket is in [k*hashNum, (k+1)*hashNum); a bucket past the last range
//             falls back to shard 0, as FindForShard does
//   table   = `kite_msg_<bucket % hashNum>` (FindForKey), plus one `kite_msg_dlq` per database.
// shardNum=4 gives kite_0..kite_3, each with kite_msg_0..kite_msg_3: bucket 0xb -> kite_2.kite_msg_3.

export const BUCKETS = 16;

export interface TableRef {
  /** index among all physical message tables, 0..tableCount-1 */
  index: number;
  shard: number;
  table: number;
  /** `db`.`kite_msg_n`, ready for SQL */
  qualified: string;
  /** `db`.`kite_msg_dlq` of the same database */
  dlqQualified: string;
  /**
   * The table as writes by message_id name it: with `FORCE INDEX` on its unique message_id index once
   * start() has found it (schema.ts messageIdIndexes), so they lock only their own rows.
   */
  byId: string;
}

export class Sharding {
  readonly hashNum: number;
  /** every physical message table, each once */
  readonly tables: TableRef[] = [];
  private readonly byBucket: TableRef[] = [];

  constructor(
    readonly db: string,
    readonly shardNum: number,
  ) {
    this.hashNum = Math.floor(BUCKETS / shardNum);
    const seen = new Map<string, TableRef>();
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      let shard = Math.floor(bucket / this.hashNum);
      if (shard >= shardNum) shard = 0; // KiteQ's FindForShard default: shardranges[0]
      const table = bucket % this.hashNum;
      const key = `${shard}/${table}`;
      let ref = seen.get(key);
      if (!ref) {
        ref = {
          index: this.tables.length,
          shard,
          table,
          qualified: `\`${this.databaseName(shard)}\`.\`kite_msg_${table}\``,
          dlqQualified: `\`${this.databaseName(shard)}\`.\`kite_msg_dlq\``,
          byId: `\`${this.databaseName(shard)}\`.\`kite_msg_${table}\``,
        };
        seen.set(key, ref);
        this.tables.push(ref);
      }
      this.byBucket.push(ref);
    }
  }

  databaseName(shard: number): string {
    return `${this.db}_${shard}`;
  }

  databases(): string[] {
    return Array.from({ length: this.shardNum }, (_, shard) => this.databaseName(shard));
  }

  /** KiteQ's HashId: the last hex digit; an id that does not end in one goes to bucket 0, as in KiteQ. */
  static bucketOf(messageId: string): number {
    const digit = parseInt(messageId.charAt(messageId.length - 1), 16);
    return Number.isNaN(digit) ? 0 : digit;
  }

  tableFor(messageId: string): TableRef {
    return this.byBucket[Sharding.bucketOf(messageId)];
  }

  /** One table per database: the dead-letter tables. */
  dlqTables(): { shard: number; qualified: string }[] {
    return this.databases().map((name, shard) => ({ shard, qualified: `\`${name}\`.\`kite_msg_dlq\`` }));
  }
}
