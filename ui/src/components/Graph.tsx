// The DAG's tasks and dependencies, laid out by elkjs (layered, left to right) and drawn by React Flow, each task
// coloured by its state in the selected run. Loaded only with the graph view: elkjs is large.
import { Background, Controls, type Edge, MarkerType, type Node, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import ELK from 'elkjs/lib/elk.bundled.js';
import { useEffect, useState } from 'react';
import type { DagTask } from '../api.ts';
import { styleOf } from '../states.tsx';

const elk = new ELK();
const W = 170;
const H = 44;

type Pos = Map<string, { x: number; y: number }>;

async function layout(tasks: DagTask[]): Promise<Pos> {
  const ids = new Set(tasks.map((t) => t.taskId));
  const g = await elk.layout({
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.spacing.nodeNode': '24', 'elk.layered.spacing.nodeNodeBetweenLayers': '56' },
    children: tasks.map((t) => ({ id: t.taskId, width: W, height: H })),
    edges: tasks.flatMap((t) => t.upstream.filter((u) => ids.has(u)).map((u) => ({ id: `${u}->${t.taskId}`, sources: [u], targets: [t.taskId] }))),
  });
  return new Map((g.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]));
}

export default function Graph({ tasks, states, onSelect }: { tasks: DagTask[]; states: Map<string, string>; onSelect: (taskId: string) => void }) {
  const [pos, setPos] = useState<Pos | null>(null);
  const shape = tasks.map((t) => `${t.taskId}<${t.upstream.join(',')}`).join(';');
  useEffect(() => {
    let live = true;
    void layout(tasks).then((p) => live && setPos(p));
    return () => {
      live = false;
    };
    // Lay out again only when the DAG's shape changes, not on every poll.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape]);
  if (!pos) return <p className="muted">Laying out the graph…</p>;
  const nodes: Node[] = tasks.map((t) => {
    const state = states.get(t.taskId) ?? null;
    const s = styleOf(state);
    return {
      id: t.taskId,
      position: pos.get(t.taskId) ?? { x: 0, y: 0 },
      data: { label: `${s.symbol ? `${s.symbol} ` : ''}${t.taskId}` },
      ariaLabel: `task ${t.taskId}: ${state ? s.label : 'no run selected'}`,
      style: { width: W, height: H, background: s.color, color: s.ink, border: '1px solid #333', borderRadius: 6, fontSize: 13, display: 'flex', alignItems: 'center', justifyContent: 'center' },
      className: 'graph-node',
      // Laid out left to right: edges leave on the right and enter on the left.
      sourcePosition: Position.Right,
      targetPosition: Position.Left,
      connectable: false,
      draggable: false,
    };
  });
  const edges: Edge[] = tasks.flatMap((t) => t.upstream.map((u) => ({ id: `${u}->${t.taskId}`, source: u, target: t.taskId, markerEnd: { type: MarkerType.ArrowClosed }, style: { stroke: '#555' } })));
  return (
    <div className="graph" role="figure" aria-label="Task dependency graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        fitView
        nodesConnectable={false}
        nodesDraggable={false}
        onNodeClick={(_, n) => onSelect(n.id)}
        proOptions={{ hideAttribution: true }}
        minZoom={0.2}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
