/**
 * fw_devlink's dependency cycles (drivers/base/core.c:__fw_devlink_relax_cycles), found once over
 * the board's device nodes.
 */
import type { DtNode } from '@probelab/dt-compiler';
import type { Board } from './board.js';
import type { DriverCoreParams } from './cmdline.js';
import {
  availablePath,
  claimedEarly,
  isAncestor,
  noOverrides,
  supplierNodes,
  type BindingRows,
} from './fw-devlink-suppliers.js';

/**
 * Dependency cycles among the board's device nodes, as fw_devlink finds them when it creates
 * links (drivers/base/core.c:__fw_devlink_relax_cycles, "Fixed dependency cycle(s) with", in
 * 6.12 and in 6.1.192 by backport; trees before the backport have fw_devlink_relax_cycle, which
 * kernels.ts:sourceFacts detects in the source): every link inside a strongly connected component is made
 * SYNC_STATE_ONLY and no longer orders probing. Returns consumer node -> supplier nodes whose
 * link is relaxed. Tarjan's algorithm, iterative.
 */
export function cycleEdges(
  board: Board,
  series: BindingRows,
  params: DriverCoreParams,
  ofDeclared: ReadonlySet<string>,
  optionalOverride: Record<string, boolean> = noOverrides,
): Map<DtNode, Set<DtNode>> {
  const out = new Map<DtNode, Set<DtNode>>();
  if (params.fwDevlink === 'off') return out;
  const deviceNodeOf = (n: DtNode): DtNode | null => {
    for (let x: DtNode | null = n; x; x = x.parent) if (board.deviceNodes.has(x)) return x;
    return null;
  };
  const edges = new Map<DtNode, DtNode[]>();
  for (const node of board.deviceNodes) {
    const sups: DtNode[] = [];
    for (const s of supplierNodes(board.tree, node, series, params, optionalOverride)) {
      if (isAncestor(node, s.node) || !availablePath(s.node) || claimedEarly(s.node, ofDeclared)) continue;
      const d = deviceNodeOf(s.node);
      if (d && d !== node && !isAncestor(d, node)) sups.push(d);
    }
    if (sups.length) edges.set(node, sups);
  }
  const index = new Map<DtNode, number>();
  const low = new Map<DtNode, number>();
  const onStack = new Set<DtNode>();
  const stack: DtNode[] = [];
  const comp = new Map<DtNode, number>();
  let counter = 0;
  let comps = 0;
  const sizes: number[] = [];
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ v: DtNode; i: number }> = [{ v: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const succ = edges.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const p = work[work.length - 1]!.v;
        low.set(p, Math.min(low.get(p)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        let size = 0;
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          comp.set(w, comps);
          size++;
          if (w === top.v) break;
        }
        sizes.push(size);
        comps++;
      }
    }
  }
  for (const [con, sups] of edges) {
    const c = comp.get(con)!;
    if (sizes[c]! < 2) continue;
    for (const s of sups) {
      if (comp.get(s) !== c) continue;
      const set = out.get(con) ?? new Set<DtNode>();
      set.add(s);
      out.set(con, set);
    }
  }
  return out;
}
