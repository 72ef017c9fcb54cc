// zk://host:port[,host:port...][/chroot][?sessionTimeoutMs=&connectTimeoutMs=] (doc/architecture.md §3), and
// KiteQ's plain "host:port,host:port" form.
export interface ZkUri {
  /** node-zookeeper-client's connection string: host:port,host:port[/chroot] */
  connectString: string;
  sessionTimeoutMs?: number;
  connectTimeoutMs?: number;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:/,\s]+):(\d{1,5})$/;

export function parseZkUri(uri: string): ZkUri {
  const rest = uri.startsWith('zk://') ? uri.slice('zk://'.length) : uri;
  const [location, query = ''] = rest.split('?', 2);
  const slash = location.indexOf('/');
  const hosts = slash >= 0 ? location.slice(0, slash) : location;
  const chroot = slash >= 0 ? location.slice(slash).replace(/\/+$/, '') : '';
  const servers = hosts.split(',').filter((h) => h !== '');
  if (servers.length === 0)
    throw new Error(`zk registry URI "${uri}" names no server: expected zk://host:port[,host:port]`);
  for (const server of servers) {
    const match = HOST_PORT.exec(server);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new Error(`zk registry URI "${uri}": "${server}" is not host:port`);
    }
  }
  const result: ZkUri = { connectString: servers.join(',') + chroot };
  const params = new URLSearchParams(query);
  for (const [key, value] of params) {
    if (key !== 'sessionTimeoutMs' && key !== 'connectTimeoutMs') {
      throw new Error(`zk registry URI "${uri}": unknown parameter "${key}" (sessionTimeoutMs, connectTimeoutMs)`);
    }
    const ms = Number(value);
    if (!Number.isInteger(ms) || ms <= 0)
      throw new Error(`zk registry URI "${uri}": ${key} must be a positive integer of milliseconds`);
    result[key] = ms;
  }
  return result;
}
