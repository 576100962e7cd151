// Cycles in a graph given as node -> the nodes it reads from; each cycle in data-flow order.

export interface Cycle {
  /** Every node of one strongly connected component. */
  readonly members: readonly string[];
  /** One closed walk through the first member, in data-flow order, first node repeated at the end. */
  readonly path: readonly string[];
}

export function findCycles(deps: ReadonlyMap<string, readonly string[]>): Cycle[] {
  const successors = new Map<string, string[]>();
  for (const id of deps.keys()) successors.set(id, []);
  for (const [id, from] of deps) for (const src of from) successors.get(src)?.push(id);

  const order = [...deps.keys()];
  const position = new Map(order.map((id, i) => [id, i]));
  return stronglyConnected(order, successors)
    .filter((scc) => scc.length > 1 || (successors.get(scc[0] ?? '') ?? []).includes(scc[0] ?? ''))
    .map((scc) => {
      const members = [...scc].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
      return { members, path: shortestLoop(members[0] ?? '', new Set(members), successors) };
    })
    .sort((a, b) => (position.get(a.members[0] ?? '') ?? 0) - (position.get(b.members[0] ?? '') ?? 0));
}

// Tarjan's algorithm, iterative so that long chains cannot overflow the stack.
function stronglyConnected(order: readonly string[], successors: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let next = 0;
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { id: string; child: number }[] = [{ id: root, child: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const succ = successors.get(frame.id) ?? [];
      if (frame.child < succ.length) {
        const w = succ[frame.child++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ id: w, child: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== frame.id);
        result.push(scc);
      }
    }
  }
  return result;
}

// Breadth-first from start back to start, staying inside its component.
function shortestLoop(start: string, within: ReadonlySet<string>, successors: ReadonlyMap<string, readonly string[]>) {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const w of successors.get(id) ?? []) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at: string | undefined = id; at !== undefined && at !== start; at = cameFrom.get(at)) path.push(at);
        path.push(start);
        return [start, ...path.slice(1, -1).reverse(), start];
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, id);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
