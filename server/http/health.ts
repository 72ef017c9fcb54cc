// /healthz (doc/architecture.md §10): 200 when the store answers a lookup and the registry is reachable, else
// 503 with the reason, so a load balancer or orchestrator can take the broker out of rotation.
import type { AdminPort } from './admin-port';

export async function healthz(port: AdminPort): Promise<{ status: number; body: Record<string, unknown> }> {
  const [store, registry] = await Promise.all([port.storeReachable(), port.registryReachable()]);
  const ok = store.ok && registry.ok;
  return { status: ok ? 200 : 503, body: { ok, store, registry } };
}
