/** A Map of lists, as the driver core's indices keep them (list_add_tail onto a keyed list). */
export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
