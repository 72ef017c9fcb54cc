// The payment service's own database (MariaDB): one row per paid order. The row and the
// message are one decision: the row commits ⇔ the message commits (doc/transactions.md).
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';

export const ORDERS_SCHEMA = `CREATE TABLE IF NOT EXISTS orders (
  order_id   VARCHAR(64) PRIMARY KEY,
  amount_cents INT NOT NULL,
  message_id CHAR(32) NOT NULL,
  paid_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)`;

export const RECEIVED_SCHEMA = `CREATE TABLE IF NOT EXISTS received (
  message_id CHAR(32) PRIMARY KEY,
  order_id   VARCHAR(64) NOT NULL,
  deliveries INT NOT NULL DEFAULT 1
)`;

/** mysql://user[:password]@host:port/database */
export function openPool(uri: string): Pool {
  return createPool({ uri, connectionLimit: 4 });
}

export async function insertOrder(
  conn: PoolConnection,
  orderId: string,
  amountCents: number,
  messageId: string,
): Promise<void> {
  await conn.query('INSERT INTO orders (order_id, amount_cents, message_id) VALUES (?, ?, ?)', [
    orderId,
    amountCents,
    messageId,
  ]);
}

export async function orderExists(pool: Pool, orderId: string): Promise<boolean> {
  const [rows] = await pool.query('SELECT 1 FROM orders WHERE order_id = ?', [orderId]);
  return (rows as unknown[]).length > 0;
}
