// Numbers and times as the console shows them.
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function rate(n: number): string {
  return `${n >= 100 ? Math.round(n) : Math.round(n * 10) / 10}/s`;
}

export function duration(sec: number): string {
  if (sec < 60) return `${Math.round(sec)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
  return `${Math.floor(sec / 86400)} d ${Math.floor((sec % 86400) / 3600)} h`;
}

/** "in 12 s" / "3 min ago" from an ISO time. */
export function relative(iso: string | null | undefined): string {
  if (!iso) return '—';
  const sec = (Date.parse(iso) - Date.now()) / 1000;
  return sec >= 0 ? `in ${duration(sec)}` : `${duration(-sec)} ago`;
}

export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
